"""User proto <-> domain mapping: roles, update masks and the password field."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from inventory_client.v1 import user_pb2 as pb
from inventory_server.api.users import new_from_proto, to_proto, update_changes
from inventory_server.domain.errors import InvalidArgument
from inventory_server.domain.user import Role, User


def request(paths: list[str], password: str = "", **user: object) -> pb.UpdateUserRequest:
    return pb.UpdateUserRequest(
        user=pb.User(id=str(uuid4()), **user),  # type: ignore[arg-type]
        update_mask=FieldMask(paths=paths),
        password=password,
    )


def test_the_user_message_has_no_field_for_a_password_or_hash() -> None:
    names = {f.name for f in pb.User.DESCRIPTOR.fields}
    assert not any("password" in name or "hash" in name for name in names)


def test_to_proto_maps_the_role_and_every_field() -> None:
    moment = datetime(2024, 5, 1, tzinfo=UTC)
    user = User(uuid4(), "ada@example.com", "Ada", Role.MANAGER, moment, moment, moment, 4)
    message = to_proto(user)
    assert (message.email, message.display_name, message.role) == ("ada@example.com", "Ada", pb.ROLE_MANAGER)
    assert message.delete_time.ToDatetime(tzinfo=UTC) == moment
    assert message.etag == 'W/"4"'


def test_new_user_trims_the_email_and_leaves_an_unspecified_role_empty() -> None:
    new = new_from_proto(pb.User(email=" ada@example.com ", display_name="Ada"))
    assert (new.email, new.display_name, new.role) == ("ada@example.com", "Ada", None)
    assert new_from_proto(pb.User(email="a@b.de", role=pb.ROLE_CLERK)).role is Role.CLERK


def test_an_empty_mask_means_the_profile_fields_and_the_password_only_when_sent() -> None:
    profile = request([], email="ada@example.com", role=pb.ROLE_ADMIN)
    assert update_changes(profile) == {"email": "ada@example.com", "display_name": "", "role": Role.ADMIN}
    with_password = request([], "new password 123", email="ada@example.com", role=pb.ROLE_ADMIN)
    assert update_changes(with_password)["password"] == "new password 123"


def test_a_password_mask_takes_the_request_password() -> None:
    assert update_changes(request(["password"], "new password 123")) == {"password": "new password 123"}
    assert update_changes(request(["role"], role=pb.ROLE_VIEWER)) == {"role": Role.VIEWER}


def test_a_password_the_mask_leaves_out_is_refused_not_ignored() -> None:
    with pytest.raises(InvalidArgument) as caught:
        update_changes(request(["display_name"], "new password 123", display_name="Ada"))
    assert caught.value.violations[0].field == "password"
    assert "new password 123" not in caught.value.message


@pytest.mark.parametrize("path", ["id", "create_time", "etag", "password_hash", "delete_time"])
def test_output_only_and_unknown_paths_are_refused(path: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        update_changes(request([path]))
    assert caught.value.violations[0].field == "update_mask"
