// Loaded with `node --require` before cognito-local starts (infra/local/services.py): fills
// the gaps between cognito-local 5.3.0 and Amazon Cognito that the API relies on, so the
// API's code never branches on "local" (ADR 0003). Each patch mirrors Cognito's documented
// behaviour; remove one when cognito-local does it itself.
//
// - Access tokens carry `origin_jti` (one per sign-in, kept by every refresh) and keep the
//   sign-in's `auth_time` across refreshes; cognito-local sets neither.
// - A disabled user cannot sign in or refresh (NotAuthorizedException "User is disabled.").
// - AdminUserGlobalSignOut revokes every refresh token of the user.
// - ResendConfirmationCode issues and delivers a new sign-up code.
// - A client with a secret must prove it: SECRET_HASH (Base64(HMAC-SHA256(secret, username +
//   client id))) on SignUp, ConfirmSignUp, ResendConfirmationCode, ForgotPassword,
//   ConfirmForgotPassword and InitiateAuth, the secret itself on RevokeToken and
//   GetTokensFromRefreshToken; otherwise NotAuthorizedException. cognito-local checks neither.
// - GetTokensFromRefreshToken (cognito-local has no such target) refreshes like InitiateAuth.
"use strict";

const crypto = require("crypto");
const path = require("path");

const lib = path.join(__dirname, "node_modules", "cognito-local", "lib");
const { Targets } = require(path.join(lib, "targets", "targets"));
const errors = require(path.join(lib, "errors"));
const { attributeValue } = require(path.join(lib, "services", "userPoolService"));
const signingKey = require(path.join(lib, "keys", "cognitoLocal.private.json"));
const jwt = require(require.resolve("jsonwebtoken", { paths: [lib] }));

const initiateAuth = Targets.InitiateAuth;

Targets.InitiateAuth = (services) => async (ctx, req) => {
  const pool = await services.cognito.getUserPoolForClientId(ctx, req.ClientId);
  const params = req.AuthParameters ?? {};
  const presented = params.REFRESH_TOKEN;
  const user = presented
    ? await pool.getUserByRefreshToken(ctx, presented)
    : await pool.getUserByUsername(ctx, params.USERNAME ?? "");
  if (user && user.Enabled === false) {
    throw new errors.NotAuthorizedError("User is disabled.");
  }
  const result = await initiateAuth(services)(ctx, req);
  const tokens = result.AuthenticationResult;
  if (tokens?.AccessToken) {
    // The refresh token is a JWT here: its jti names the sign-in, its iat is when it happened.
    const session = jwt.decode(presented ?? tokens.RefreshToken);
    const claims = jwt.decode(tokens.AccessToken);
    tokens.AccessToken = jwt.sign(
      { ...claims, origin_jti: session.jti, auth_time: session.iat },
      signingKey.pem,
      { algorithm: "RS256", keyid: "CognitoLocal" },
    );
  }
  return result;
};

Targets.AdminUserGlobalSignOut = ({ cognito }) => async (ctx, req) => {
  const pool = await cognito.getUserPool(ctx, req.UserPoolId);
  const user = await pool.getUserByUsername(ctx, req.Username);
  if (!user) {
    throw new errors.UserNotFoundError();
  }
  await pool.saveUser(ctx, { ...user, RefreshTokens: [] });
  return {};
};

Targets.ResendConfirmationCode = ({ cognito, messages, otp }) => async (ctx, req) => {
  const pool = await cognito.getUserPoolForClientId(ctx, req.ClientId);
  const user = await pool.getUserByUsername(ctx, req.Username);
  if (!user) {
    throw new errors.UserNotFoundError();
  }
  if (user.UserStatus !== "UNCONFIRMED") {
    throw new errors.InvalidParameterError("User is already confirmed.");
  }
  const delivery = {
    AttributeName: "email",
    DeliveryMedium: "EMAIL",
    Destination: attributeValue("email", user.Attributes),
  };
  const code = otp();
  await messages.deliver(
    ctx, "ResendCode", req.ClientId, pool.options.Id, user, code, req.ClientMetadata, delivery,
  );
  await pool.saveUser(ctx, { ...user, ConfirmationCode: code });
  return { CodeDeliveryDetails: delivery };
};

const secretHash = (secret, username, clientId) =>
  crypto.createHmac("sha256", secret).update(username + clientId).digest("base64");

const clientSecret = async (cognito, ctx, clientId) =>
  (await cognito.getAppClient(ctx, clientId))?.ClientSecret;

const requireSecretHash = async (cognito, ctx, clientId, username, presented) => {
  const secret = await clientSecret(cognito, ctx, clientId);
  if (!secret) {
    return;
  }
  if (!presented) {
    throw new errors.NotAuthorizedError(
      `Client ${clientId} is configured with secret but SECRET_HASH was not received`,
    );
  }
  if (presented !== secretHash(secret, username, clientId)) {
    throw new errors.NotAuthorizedError(`Unable to verify secret hash for client ${clientId}`);
  }
};

const requireClientSecret = async (cognito, ctx, clientId, presented) => {
  const secret = await clientSecret(cognito, ctx, clientId);
  if (secret && presented !== secret) {
    throw new errors.NotAuthorizedError(`Unable to verify secret for client ${clientId}`);
  }
};

const initiateAuthWithoutSecret = Targets.InitiateAuth;

Targets.GetTokensFromRefreshToken = (services) => async (ctx, req) => {
  await requireClientSecret(services.cognito, ctx, req.ClientId, req.ClientSecret);
  const result = await initiateAuthWithoutSecret(services)(ctx, {
    ClientId: req.ClientId,
    AuthFlow: "REFRESH_TOKEN_AUTH",
    AuthParameters: { REFRESH_TOKEN: req.RefreshToken },
  });
  return { AuthenticationResult: result.AuthenticationResult };
};

const revokeToken = Targets.RevokeToken;

Targets.RevokeToken = (services) => async (ctx, req) => {
  await requireClientSecret(services.cognito, ctx, req.ClientId, req.ClientSecret);
  return revokeToken(services)(ctx, req);
};

// The user a SECRET_HASH names: the one signing in, or (on refresh) the token's owner.
const hashedUsername = async (cognito, ctx, req) => {
  const params = req.AuthParameters ?? {};
  if (!params.REFRESH_TOKEN) {
    return params.USERNAME ?? "";
  }
  const pool = await cognito.getUserPoolForClientId(ctx, req.ClientId);
  return (await pool.getUserByRefreshToken(ctx, params.REFRESH_TOKEN))?.Username ?? "";
};

Targets.InitiateAuth = (services) => async (ctx, req) => {
  const username = await hashedUsername(services.cognito, ctx, req);
  const presented = req.AuthParameters?.SECRET_HASH;
  await requireSecretHash(services.cognito, ctx, req.ClientId, username, presented);
  return initiateAuthWithoutSecret(services)(ctx, req);
};

for (const name of [
  "SignUp",
  "ConfirmSignUp",
  "ResendConfirmationCode",
  "ForgotPassword",
  "ConfirmForgotPassword",
]) {
  const unchecked = Targets[name];
  Targets[name] = (services) => async (ctx, req) => {
    await requireSecretHash(services.cognito, ctx, req.ClientId, req.Username ?? "", req.SecretHash);
    return unchecked(services)(ctx, req);
  };
}
