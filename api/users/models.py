"""The users table: one profile per Cognito user, keyed by its `sub`.

| pattern                      | operation | key / index                               |
|------------------------------|-----------|-------------------------------------------|
| get / update / delete a user | Get/Update/DeleteItem | user_id                       |
| list users (admin), by email | Query     | directory-index: kind = "user"            |
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from api.storage import BaseModel, IsoDateTimeAttribute

USER_KIND = "user"


class DirectoryIndex(GlobalSecondaryIndex["User"]):  # type: ignore[no-untyped-call]
    """Every profile under one partition, sorted by email.

    One partition holds up to ~10 GB of index and 1,000 writes/s: far beyond a
    to-do app's sign-ups. Past that, shard `kind` (user#0..user#N).
    """

    class Meta:
        index_name = "directory-index"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)


class User(BaseModel):
    class Meta(BaseModel.Meta):
        table_name = "users"

    user_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    kind = UnicodeAttribute(default=USER_KIND)
    # Mirrors Cognito's flag for listings; api/auth/revocation.py is what refuses tokens.
    enabled = BooleanAttribute(default=True)
    created_at = IsoDateTimeAttribute()
    updated_at = IsoDateTimeAttribute()
    # Set when the account's deletion begins: from then on the profile is gone to every
    # request but the DELETE that finishes the job (api/users/service.py).
    deleting_since = IsoDateTimeAttribute(null=True)
    # How many tasks the user holds, for the per-user cap (api/tasks/quota.py).
    task_count = NumberAttribute(null=True)

    directory = DirectoryIndex()
