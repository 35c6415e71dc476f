"""The desk's working day beyond intake: accounts managed on the page, notes on a dossier, the
Vietnamese timeline, and assigning a dossier to an officer (chuyên viên xử lý)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from web_helpers import PASSWORD, WebWorld, csrf_from, sign_in

NEW_PASSWORD = "mat-khau-moi-cua-lan-2026"


def _post(client: TestClient, page: str, url: str, data: dict[str, str]) -> object:
    token = csrf_from(client.get(page).text)
    return client.post(url, data={**data, "csrftoken": token}, follow_redirects=False)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_admin_adds_disables_enables_and_resets_an_account_on_the_page(
    world: WebWorld,
) -> None:
    admin = sign_in(world.app, "admin")
    r = _post(admin, "/accounts", "/accounts/users",
              {"username": "lan.nt", "full_name": "Nguyễn Thị Lan", "role": "officer",
               "password": "ngan"})  # fmt: skip
    assert r.status_code == 400  # refused beside the form, what was typed kept, no password
    assert 'data-testid="add-user-error"' in r.text
    assert "mật khẩu ngắn hơn 10 ký tự" in r.text
    assert 'value="lan.nt"' in r.text and 'value="Nguyễn Thị Lan"' in r.text
    assert 'value="ngan"' not in r.text
    r = _post(admin, "/accounts", "/accounts/users",
              {"username": "lan.nt", "full_name": "Nguyễn Thị Lan", "role": "officer",
               "password": PASSWORD})  # fmt: skip
    assert r.status_code == 303
    page = admin.get("/accounts").text
    assert "Đã tạo tài khoản lan.nt (Chuyên viên xử lý)." in _text(page)
    officer = sign_in(world.app, "lan.nt")
    assert "Chuyên viên xử lý" in officer.get("/dossiers").text

    assert _post(admin, "/accounts", "/accounts/users/lan.nt/active",
                 {"active": "0"}).status_code == 303  # fmt: skip
    assert officer.get("/dossiers", follow_redirects=False).status_code == 303  # signed out
    _post(admin, "/accounts", "/accounts/users/lan.nt/active", {"active": "1"})
    _post(admin, "/accounts", "/accounts/users/lan.nt/password", {"password": NEW_PASSWORD})
    again = sign_in(world.app, "lan.nt", NEW_PASSWORD)
    _post(admin, "/accounts", "/accounts/users/lan.nt/role", {"role": "clerk"})
    assert again.get("/dossiers", follow_redirects=False).status_code == 303  # the old role ends
    user = {u.username: u for u in world.services.accounts.users()}["lan.nt"]
    assert user.role.value == "clerk" and user.active
    actions = [e.action for e in world.services.audit.entries(target_kind="user")
               if e.target_id == "lan.nt" and e.action.startswith("user.")]  # fmt: skip
    assert actions == ["user.role_changed", "user.password_set", "user.enabled",
                       "user.disabled", "user.created"]  # fmt: skip
    audit = _text(admin.get("/audit").text)
    assert "Đổi vai trò" in audit and "vai trò: Cán bộ tiếp nhận" in audit


def test_an_admin_cannot_lock_themselves_out(world: WebWorld) -> None:
    admin = sign_in(world.app, "admin")
    r = _post(admin, "/accounts", "/accounts/users/admin/active", {"active": "0"})
    assert r.status_code == 400
    assert "không thể tự khóa tài khoản đang dùng" in r.text
    r = _post(admin, "/accounts", "/accounts/users/admin/role", {"role": "clerk"})
    assert "không thể tự bỏ quyền quản trị của mình" in r.text
    assert admin.get("/accounts").status_code == 200  # still an admin, still signed in


def test_a_note_is_kept_on_the_timeline_and_out_of_the_journal(world: WebWorld) -> None:
    code = world.complete.code
    clerk = sign_in(world.app, "clerk")
    r = _post(clerk, f"/dossiers/{code}", f"/dossiers/{code}/notes", {"text": "   "})
    page = clerk.get(r.headers["location"]).text  # type: ignore[attr-defined]
    assert "Chưa lưu ghi chú: ghi chú trống." in page
    said = "Đã gọi chị Bình: chiều mai mang bản chính giấy chứng sinh."
    _post(clerk, f"/dossiers/{code}", f"/dossiers/{code}/notes", {"text": said})
    page = clerk.get(f"/dossiers/{code}").text
    timeline = page[page.index('data-testid="timeline"') :]
    assert "Cán bộ clerk</strong>: Ghi chú" in timeline
    assert said in timeline
    entry = world.services.audit.entries(target_id=code)[0]
    assert entry.action == "dossier.note_added" and entry.actor == "user:clerk"
    assert said not in str(entry.details) and "Bình" not in str(entry.details)
    assert [n.text for n in world.services.core.notes.of(code)] == [said]
    # an archivist reads the notes but writes none
    archivist = sign_in(world.app, "archivist")
    page = archivist.get(f"/dossiers/{code}").text
    assert said in page and 'data-testid="note-form"' not in page


def test_a_dossier_is_assigned_to_an_officer_and_listed_for_them(world: WebWorld) -> None:
    code = world.complete.code
    clerk = sign_in(world.app, "clerk")
    r = _post(clerk, f"/dossiers/{code}", f"/dossiers/{code}/assignee", {"assignee": "leader"})
    page = clerk.get(r.headers["location"]).text  # type: ignore[attr-defined]
    assert "Chỉ giao hồ sơ cho tài khoản chuyên viên xử lý đang hoạt động." in page
    assert world.services.register.get(code).assignee is None
    _post(clerk, f"/dossiers/{code}", f"/dossiers/{code}/assignee", {"assignee": "officer"})
    assert world.services.register.get(code).assignee == "officer"
    page = clerk.get(f"/dossiers/{code}").text
    assert re.search(r'data-testid="assignee">Cán bộ officer<', page)
    assert re.search(
        r"Cán bộ clerk : Phân công xử lý \([^)]*giao cho: Cán bộ officer\)", _text(page)
    )

    officer = sign_in(world.app, "officer")
    mine = officer.get("/dossiers?assignee=officer").text
    assert 'data-testid="view-mine"' in mine
    assert code in mine and world.incomplete.code not in mine
    assert officer.get(f"/api/v1/dossiers/{code}").json()["assignee"] == "officer"
    # the officer neither assigns nor takes dossiers in
    refused = _post(officer, f"/dossiers/{code}", f"/dossiers/{code}/assignee", {"assignee": ""})
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert officer.get("/dossiers/new").status_code == 403
