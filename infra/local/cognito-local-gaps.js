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
"use strict";

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
