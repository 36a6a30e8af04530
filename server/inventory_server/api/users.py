"""UserService servicer: proto <-> domain mapping and request validation only.

No response built here has a field for the password hash, and the domain
``User`` does not carry one, so it cannot leak through a reply.
"""

from __future__ import annotations

from typing import Any

from grpc import aio

from inventory_client.v1 import user_pb2 as pb
from inventory_client.v1 import user_pb2_grpc
from inventory_server.api.convert import checked_request_id, mask_paths, parse_etag, parse_id, timestamp
from inventory_server.api.page_tokens import PageTokens
from inventory_server.domain.errors import InvalidArgument
from inventory_server.domain.paging import ListQuery
from inventory_server.domain.user import USER_UPDATES, NewUser, Role, User
from inventory_server.services.users import UserService

Context = aio.ServicerContext[Any, Any]

ROLE_TO_PROTO: dict[Role, pb.Role.ValueType] = {
    Role.VIEWER: pb.ROLE_VIEWER,
    Role.CLERK: pb.ROLE_CLERK,
    Role.MANAGER: pb.ROLE_MANAGER,
    Role.ADMIN: pb.ROLE_ADMIN,
}
ROLE_FROM_PROTO: dict[int, Role] = {value: role for role, value in ROLE_TO_PROTO.items()}


def role_from_proto(value: int) -> Role | None:
    """The domain role; None for ROLE_UNSPECIFIED or a number this server does not know."""
    return ROLE_FROM_PROTO.get(value)


def to_proto(u: User) -> pb.User:
    return pb.User(
        id=str(u.id),
        email=u.email,
        display_name=u.display_name,
        role=ROLE_TO_PROTO[u.role],
        create_time=timestamp(u.create_time),
        update_time=timestamp(u.update_time),
        delete_time=timestamp(u.delete_time),
        etag=u.etag,
    )


def new_from_proto(u: pb.User) -> NewUser:
    return NewUser(email=u.email.strip(), role=role_from_proto(u.role), display_name=u.display_name)


def update_changes(request: pb.UpdateUserRequest) -> dict[str, Any]:
    """The changes an UpdateUserRequest asks for ("password" maps to the request's plaintext password).

    An empty mask means every profile field, plus the password when one is
    sent; a password sent while a non-empty mask leaves it out is refused
    rather than silently ignored.
    """
    paths = mask_paths(request.update_mask, USER_UPDATES)
    if request.update_mask.paths:
        if request.password and "password" not in paths:
            raise InvalidArgument.field("password", 'is set, but update_mask does not name "password"')
    elif request.password:
        paths = sorted({*paths, "password"})
    values = new_from_proto(request.user)
    changes: dict[str, Any] = {}
    for path in paths:
        changes[path] = request.password if path == "password" else getattr(values, path)
    return changes


class UserServicer(user_pb2_grpc.UserServiceServicer):
    """Implements inventory.v1.UserService over ``UserService``."""

    def __init__(self, users: UserService, *, page_tokens: PageTokens) -> None:
        self.users = users
        self.page_tokens = page_tokens

    async def GetUser(self, request: pb.GetUserRequest, context: Context) -> pb.GetUserResponse:
        user = await self.users.get(parse_id(request.id), replica_ok=True)
        return pb.GetUserResponse(user=to_proto(user))

    async def ListUsers(self, request: pb.ListUsersRequest, context: Context) -> pb.ListUsersResponse:
        query = ListQuery.from_request(
            request.page_size,
            self.page_tokens.open(request.page_token),
            request.filter,
            request.order_by,
            request.show_deleted,
        )
        page = await self.users.list_users(query)
        return pb.ListUsersResponse(
            users=[to_proto(u) for u in page.items],
            next_page_token=self.page_tokens.seal(page.next_page_token),
        )

    async def CreateUser(self, request: pb.CreateUserRequest, context: Context) -> pb.CreateUserResponse:
        user = await self.users.create(
            new_from_proto(request.user), request.password, checked_request_id(request.request_id)
        )
        return pb.CreateUserResponse(user=to_proto(user))

    async def UpdateUser(self, request: pb.UpdateUserRequest, context: Context) -> pb.UpdateUserResponse:
        id = parse_id(request.user.id, "user.id")
        changes = update_changes(request)
        user = await self.users.update(
            id, changes, parse_etag(request.user.etag, "user.etag"), current_password=request.current_password
        )
        return pb.UpdateUserResponse(user=to_proto(user))

    async def DeleteUser(self, request: pb.DeleteUserRequest, context: Context) -> pb.DeleteUserResponse:
        user = await self.users.delete(parse_id(request.id), parse_etag(request.etag))
        return pb.DeleteUserResponse(user=to_proto(user))

    async def AuthenticateUser(
        self, request: pb.AuthenticateUserRequest, context: Context
    ) -> pb.AuthenticateUserResponse:
        user = await self.users.authenticate(request.email.strip(), request.password)
        return pb.AuthenticateUserResponse(user=to_proto(user))
