"""The citizen's status page behind the receipt's QR: no account, no personal data beyond
initials, the same neutral page for unknown and revoked tokens, lookups rate-limited."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

import pytest
from fastapi.testclient import TestClient
from web_helpers import ID_NUMBER, WebWorld, csrf_from, csrf_header, sign_in

from dossiers.calendar import VN_TZ
from dossiers.public import TOKEN_LENGTH, normalise_token
from dossiers.register import DocumentIn
from flows import dossier as ops
from flows import public
from motcua.errors import BadArgumentError
from motcua.office import cli_actor


def _token(world: WebWorld, code: str) -> str:
    link = public.status_link(world.services.core, code)
    assert link is not None
    return link.token


def test_status_page_shows_what_the_citizen_needs_and_no_personal_data(world: WebWorld) -> None:
    client = TestClient(world.app)
    token = _token(world, world.complete.code)
    assert len(token) == TOKEN_LENGTH and world.complete.code not in token
    page = client.get(f"/tra-cuu/{token}")
    assert page.status_code == 200
    text = page.text
    assert "Cấp Giấy xác nhận tình trạng hôn nhân" in text
    assert "Đã tiếp nhận" in text
    assert world.complete.due_date is not None
    assert f"{world.complete.due_date:%d/%m/%Y}" in text
    assert 'data-testid="status-initials">N. V. A.<' in text
    assert "Bộ phận Tiếp nhận và Trả kết quả" in text  # where to collect the result
    for personal in ("Nguyễn Văn An", "Nguyễn", ID_NUMBER, "001******345"):
        assert personal not in text, personal
    assert "set-cookie" not in page.headers  # a citizen's visit leaves no session behind
    assert page.headers["cache-control"] == "no-store"
    assert "noindex" in page.headers["x-robots-tag"]


def test_a_supplement_request_says_what_to_bring(world: WebWorld) -> None:
    page = TestClient(world.app).get(f"/tra-cuu/{_token(world, world.incomplete.code)}")
    assert page.status_code == 200
    assert "Cần bổ sung giấy tờ" in page.text
    missing = re.search(r'data-testid="status-missing">(.*?)</ul>', page.text, re.S)
    assert missing and "Căn cước công dân của người yêu cầu" in missing.group(1)
    assert "Trần Thị Bình" not in page.text and 'status-initials">T. T. B.<' in page.text


def test_unknown_and_revoked_tokens_get_the_same_neutral_page(world: WebWorld) -> None:
    client = TestClient(world.app)
    code = world.complete.code
    token = _token(world, code)
    assert client.get(f"/tra-cuu/{token}").status_code == 200
    assert public.revoke_link(world.services.core, code, actor=cli_actor())
    revoked = client.get(f"/tra-cuu/{token}")
    unknown = client.get("/tra-cuu/" + "Z" * TOKEN_LENGTH)
    garbage = client.get("/tra-cuu/" + code)  # the dossier code alone opens nothing
    assert revoked.status_code == unknown.status_code == garbage.status_code == 404
    assert revoked.text == unknown.text == garbage.text
    assert "Không tìm thấy thông tin tra cứu" in revoked.text and code not in revoked.text
    assert public.status_url(world.services.core, code) is None  # revoked stays revoked
    renewed = public.renew_link(world.services.core, code, actor=cli_actor())
    assert renewed.token != token
    assert client.get(f"/tra-cuu/{renewed.token}").status_code == 200
    assert client.get(f"/tra-cuu/{token}").status_code == 404
    journal = [e.action for e in world.services.audit.entries(target_id=code)]
    assert "dossier.status_link_revoked" in journal and "dossier.status_link_renewed" in journal


def test_the_typed_lookup_code_leads_to_the_page(world: WebWorld) -> None:
    client = TestClient(world.app)
    link = public.status_link(world.services.core, world.complete.code)
    assert link is not None
    form = client.get("/tra-cuu")
    assert form.status_code == 200 and 'data-testid="lookup-form"' in form.text
    typed = " " + link.printed.lower().replace("0", "o") + " "  # as a person may type it
    assert normalise_token(typed) == link.token
    went = client.get("/tra-cuu", params={"ma": typed}, follow_redirects=False)
    assert went.status_code == 303 and went.headers["location"] == f"/tra-cuu/{link.token}"
    bad = client.get("/tra-cuu", params={"ma": "12345"})
    assert bad.status_code == 400 and 'data-testid="lookup-error"' in bad.text


def test_lookups_are_rate_limited_per_address(world: WebWorld) -> None:
    token = _token(world, world.complete.code)
    guesser = TestClient(world.app, client=("203.0.113.7", 40000))
    misses = world.services.lookup_miss_limit.limit
    for i in range(misses):
        assert guesser.get(f"/tra-cuu/{'Y' * (TOKEN_LENGTH - 2)}{i:02d}").status_code == 404
    stopped = guesser.get(f"/tra-cuu/{token}")  # even a good token, once it has guessed enough
    assert stopped.status_code == 429
    assert int(stopped.headers["retry-after"]) > 0 and "thử lại sau" in stopped.text
    neighbour = TestClient(world.app, client=("203.0.113.8", 40000))
    assert neighbour.get(f"/tra-cuu/{token}").status_code == 200  # another address is not held

    reader = TestClient(world.app, client=("198.51.100.4", 40000))
    allowed = world.services.lookup_limit.limit
    codes = [reader.get(f"/tra-cuu/{token}").status_code for _ in range(allowed + 1)]
    assert codes[:allowed] == [200] * allowed and codes[allowed] == 429


def _returned(world: WebWorld) -> str:
    """The world's signed dossier, handed over at the desk."""
    code = world.signed.code
    ops.mark_returned(world.services.core, code, actor=cli_actor(), collected_by="Lê Văn Cường")
    return code


def test_the_citizen_rates_once_from_the_status_page_after_the_return(world: WebWorld) -> None:
    client = TestClient(world.app)
    token = _token(world, world.signed.code)
    before = client.get(f"/tra-cuu/{token}")
    assert "Đã có kết quả" in before.text and 'data-testid="rating-form"' not in before.text
    refused = client.post(f"/tra-cuu/{token}/danh-gia", data={"score": "5"})
    assert refused.status_code == 409 and "chưa trả kết quả" in refused.text

    code = _returned(world)
    page = client.get(f"/tra-cuu/{token}")
    assert "Đã trả kết quả" in page.text and 'data-testid="rating-form"' in page.text
    sent = client.post(
        f"/tra-cuu/{token}/danh-gia",
        data={
            "score": "4",
            "comment": "Cán bộ hướng dẫn tận tình",
            "csrftoken": csrf_from(page.text),
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    thanked = client.get(sent.headers["location"])
    assert "Cảm ơn ông/bà đã đánh giá" in thanked.text and "4/5" in thanked.text
    assert 'data-testid="rating-form"' not in thanked.text

    again = client.post(f"/tra-cuu/{token}/danh-gia",
                        data={"score": "1", "csrftoken": csrf_from(page.text)})  # fmt: skip
    assert again.status_code == 409 and "đã được đánh giá" in again.text
    rating = world.services.core.ratings.get(code)
    assert rating is not None and (rating.score, rating.via) == (4, "status-page")
    assert rating.comment == "Cán bộ hướng dẫn tận tình"
    rated = [e for e in world.services.audit.entries(target_id=code) if e.action == "dossier.rated"]
    assert len(rated) == 1 and rated[0].details == {"score": 4, "via": "status-page",
                                                    "comment": True}  # fmt: skip
    assert "tận tình" not in json.dumps([e.details for e in rated], ensure_ascii=False)

    leader = sign_in(world.app, "leader")
    report = leader.get("/api/v1/reports/on-time").json()["satisfaction"]
    assert report["rated"] == 1 and report["average"] == 4.0
    assert report["counts"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}
    assert report["by_procedure"]["xac-nhan-tinh-trang-hon-nhan"]["rated"] == 1
    page = leader.get("/reports/on-time")
    assert 'data-testid="satisfaction"' in page.text and "4,00" in page.text


def test_the_clerk_records_the_rating_at_hand_over_once(world: WebWorld) -> None:
    clerk = sign_in(world.app, "clerk")
    code = world.signed.code
    early = clerk.post(f"/api/v1/dossiers/{code}/satisfaction", json={"score": 5},
                       headers=csrf_header(clerk))  # fmt: skip
    assert early.status_code == 409, early.text  # not handed over yet
    _returned(world)
    page = clerk.get(f"/dossiers/{code}")
    assert 'data-testid="rating-form"' in page.text
    done = clerk.post(f"/dossiers/{code}/satisfaction",
                      data={"score": "5", "csrftoken": csrf_from(page.text)})  # fmt: skip
    assert done.status_code == 200 and "Đã ghi đánh giá 5/5" in done.text
    assert 'data-testid="rating-given"' in done.text
    twice = clerk.post(f"/api/v1/dossiers/{code}/satisfaction", json={"score": 2},
                       headers=csrf_header(clerk))  # fmt: skip
    assert twice.status_code == 409 and "đã được đánh giá" in twice.json()["detail"]
    bad = clerk.post(f"/api/v1/dossiers/{code}/satisfaction", json={"score": 6},
                     headers=csrf_header(clerk))  # fmt: skip
    assert bad.status_code == 422
    rating = world.services.core.ratings.get(code)
    assert rating is not None and (rating.score, rating.via) == (5, "desk")
    archivist = sign_in(world.app, "archivist")  # reads dossiers, does not hand them over
    assert archivist.post(f"/api/v1/dossiers/{code}/satisfaction", json={"score": 3},
                          headers=csrf_header(archivist)).status_code == 403  # fmt: skip


def test_the_report_shows_the_decision_766_figures(world: WebWorld) -> None:
    svc = world.services
    day = dt.date(2026, 4, 24)  # the world's dossiers were received that day, channel unknown
    for i, channel in enumerate(["online", "online", "post", "desk"]):
        digest = hashlib.sha256(f"kenh-{i}".encode()).hexdigest()
        svc.register.intake(
            svc.catalogue.get("xac-nhan-tinh-trang-hon-nhan"),
            [DocumentIn(path=f"/scans/{i}.pdf", kind="cccd", sha256=digest)],
            received_at=dt.datetime(2026, 4, 24, 14, i, tzinfo=VN_TZ),
            channel=channel,
        )
    with pytest.raises(BadArgumentError, match="channel 'fax'"):
        svc.register.intake(
            svc.catalogue.get("xac-nhan-tinh-trang-hon-nhan"),
            [DocumentIn(path="/scans/x.pdf", kind="cccd", sha256="a" * 64)],
            channel="fax",
        )
    leader = sign_in(world.app, "leader")
    params = {"date_from": day.isoformat(), "date_to": "2026-04-30"}
    figures = leader.get("/api/v1/reports/on-time", params=params).json()["decision_766"]
    assert figures["received"] == 7  # the world's three and these four
    assert figures["by_channel"] == {"online": 2, "desk": 1, "post": 1, "unrecorded": 3}
    assert figures["channel_rates"]["online"] == pytest.approx(2 / 7)
    assert figures["digitised"] == 7  # register.intake leaves them archived (no archive step)
    assert figures["on_time_rate"] == 1.0  # the world's one result, signed early on 27/4
    page = leader.get("/reports/on-time", params=params)
    assert 'data-testid="decision-766"' in page.text and "Tiếp nhận trực tuyến" in page.text
