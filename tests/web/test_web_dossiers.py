"""Dossier pages and API on the real register: lists with masked ID numbers, filters, detail,
supplement request, return, receipt PDF, on-time report."""

from __future__ import annotations

import io
import re

import pypdfium2
from fastapi.testclient import TestClient
from web_helpers import ID_NUMBER, ID_NUMBER_2, WebWorld, csrf_from, csrf_header, sign_in

from motcua.types import mask_id


def test_lists_mask_id_numbers(shared_world: WebWorld, clients: dict[str, TestClient]) -> None:
    for role, client in clients.items():
        page = client.get("/dossiers")
        assert page.status_code == 200, role
        assert ID_NUMBER not in page.text and ID_NUMBER_2 not in page.text
        assert mask_id(ID_NUMBER) in page.text
        listing = client.get("/api/v1/dossiers")
        assert ID_NUMBER not in listing.text
        rows = {d["code"]: d for d in listing.json()}
        assert rows[shared_world.complete.code]["id_numbers"] == ["001******345"]
        assert rows[shared_world.incomplete.code]["status"] == "supplement_requested"


def test_detail_reveals_the_number_only_to_who_acts_on_the_dossier(
    shared_world: WebWorld, clients: dict[str, TestClient]
) -> None:
    code = shared_world.complete.code
    for role in ("clerk", "admin"):
        d = clients[role].get(f"/api/v1/dossiers/{code}").json()
        assert d["id_numbers"] == [ID_NUMBER]
        cccd = next(doc for doc in d["documents"] if doc["kind"] == "cccd")
        assert cccd["fields"]["so_dinh_danh"]["value"] == ID_NUMBER
    for role in ("leader", "archivist"):
        response = clients[role].get(f"/api/v1/dossiers/{code}")
        assert ID_NUMBER not in response.text
        d = response.json()
        assert d["id_numbers"] == ["001******345"]
        cccd = next(doc for doc in d["documents"] if doc["kind"] == "cccd")
        assert cccd["fields"]["so_dinh_danh"]["value"] == "001******345"
        assert cccd["fields"]["ghi_chu"] == "CCCD số 001******345"
        page = clients[role].get(f"/dossiers/{code}")
        assert ID_NUMBER not in page.text
    page = clients["clerk"].get(f"/dossiers/{code}")
    assert ID_NUMBER in page.text
    assert 'class="review"' in page.text  # ho_ten was read with low confidence
    assert "Căn cước công dân của người yêu cầu" in page.text


def test_filters(shared_world: WebWorld, clients: dict[str, TestClient]) -> None:
    api = clients["leader"]

    def codes(**params: str) -> set[str]:
        r = api.get("/api/v1/dossiers", params=params)
        assert r.status_code == 200, r.text
        return {d["code"] for d in r.json()}

    w = shared_world
    assert codes(status="supplement_requested") == {w.incomplete.code}
    assert codes(status="result_signed") == {w.signed.code}
    assert codes(q="tran thi binh") == {w.incomplete.code}  # without diacritics
    assert codes(q="Lê Văn") == {w.signed.code}
    assert codes(q=w.complete.code) == {w.complete.code}
    assert codes(procedure="dang-ky-khai-sinh") == set()
    assert codes(received_from="2026-04-25") == set()
    assert len(codes(received_from="2026-04-24", received_to="2026-04-24")) == 3
    assert api.get("/api/v1/dossiers", params={"status": "lost"}).status_code == 422
    page = api.get("/dossiers", params={"q": "nguyen van an"})
    assert w.complete.code in page.text and w.incomplete.code not in page.text
    assert api.get("/dossiers", params={"received_from": "24/04/2026"}).status_code == 400


def test_unknown_dossier_is_404(clients: dict[str, TestClient]) -> None:
    r = clients["clerk"].get("/api/v1/dossiers/H40.29.10-260424-9999")
    assert r.status_code == 404
    assert r.json()["detail"] == "hồ sơ H40.29.10-260424-9999 not found"
    r = clients["clerk"].get("/dossiers/khong-co")
    assert r.status_code == 404
    assert "Không tìm thấy" in r.text


def test_request_supplement_through_the_api(world: WebWorld) -> None:
    clerk = sign_in(world.app, "clerk")
    code = world.complete.code
    url = f"/api/v1/dossiers/{code}/supplement-request"
    r = clerk.post(url, json={"missing": ["giay-khai-sinh"]}, headers=csrf_header(clerk))
    assert r.status_code == 400
    assert "giay-khai-sinh" in r.json()["detail"]
    r = clerk.post(url, json={"missing": []}, headers=csrf_header(clerk))
    assert r.status_code == 422
    r = clerk.post(url, json={"missing": ["giay-to-ly-hon"]}, headers=csrf_header(clerk))
    assert r.status_code == 200
    assert r.json()["status"] == "supplement_requested"
    assert r.json()["missing_components"] == ["giay-to-ly-hon"]
    # Asked once, it cannot be asked again before the supplement arrives.
    r = clerk.post(url, json={"missing": ["cccd"]}, headers=csrf_header(clerk))
    assert r.status_code == 409
    [entry] = world.services.audit.entries(target_id=code)
    assert entry.actor == "user:clerk"
    assert entry.action == "dossier.supplement_requested"
    assert entry.details == {"status": "supplement_requested", "missing": ["giay-to-ly-hon"]}


def test_return_is_recorded_once_the_result_is_signed(world: WebWorld) -> None:
    clerk = sign_in(world.app, "clerk")
    r = clerk.post(f"/api/v1/dossiers/{world.complete.code}/returned", headers=csrf_header(clerk))
    assert r.status_code == 409
    assert "cannot become returned" in r.json()["detail"]
    page = clerk.get(f"/dossiers/{world.signed.code}")
    assert "Xác nhận đã trả kết quả" in page.text
    r = clerk.post(f"/dossiers/{world.signed.code}/returned",
                   data={"csrftoken": csrf_from(page.text)}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    page = clerk.get(r.headers["location"])
    assert "Đã ghi nhận trả kết quả" in page.text
    assert world.services.register.get(world.signed.code).status.value == "returned"
    assert [e.action for e in world.services.audit.entries(target_id=world.signed.code)] == [
        "dossier.returned"
    ]


def test_receipt_pdf(world: WebWorld) -> None:
    clerk = sign_in(world.app, "clerk")
    r = clerk.get(f"/dossiers/{world.complete.code}/receipt.pdf")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert f"phieu-tiep-nhan-{world.complete.code}.pdf" in r.headers["content-disposition"]
    pdf = pypdfium2.PdfDocument(io.BytesIO(r.content))
    text = pdf[0].get_textpage().get_text_range()
    assert world.complete.code in text
    assert "GIẤY TIẾP NHẬN HỒ SƠ" in text
    assert "Cán bộ clerk" in text  # the signed-in clerk is the receiving officer
    r = clerk.get(f"/api/v1/dossiers/{world.incomplete.code}/receipt.pdf")
    assert r.status_code == 409
    actions = [e.action for e in world.services.audit.entries(target_id=world.complete.code)]
    assert actions == ["dossier.receipt_printed"]


def test_on_time_report(shared_world: WebWorld, clients: dict[str, TestClient]) -> None:
    r = clients["leader"].get(
        "/api/v1/reports/on-time", params={"date_from": "2026-04-01", "date_to": "2026-04-30"}
    )
    assert r.status_code == 200
    total = r.json()["total"]
    assert (total["received"], total["resolved"], total["pending"]) == (3, 1, 2)
    assert total["awaiting_supplement"] == 1
    assert total["on_time_rate"] == 1.0
    page = clients["leader"].get("/reports/on-time?date_from=2026-04-01&date_to=2026-04-30")
    assert page.status_code == 200
    assert "Cấp Giấy xác nhận tình trạng hôn nhân" in page.text
    assert "100,00%" in page.text and "100.00%" not in page.text  # Vietnamese decimal comma
    assert "tháng 4/2026" in page.text and "Tháng 2026-" not in page.text
    chart = page.text[page.text.index('data-testid="on-time-chart"') :].split("</ul>")[0]
    assert re.findall(r'style="width: ([\d.]+)%"', chart) == ["100.0"]  # one month, all on time
    assert "tháng 4/2026" in chart and "100,00%" in chart
    bad = clients["leader"].get("/api/v1/reports/on-time?date_from=2026-05-01&date_to=2026-04-01")
    assert bad.status_code == 400


def test_supplement_request_pdf(world: WebWorld) -> None:
    clerk = sign_in(world.app, "clerk")
    page = clerk.get(f"/dossiers/{world.incomplete.code}")
    assert f"/dossiers/{world.incomplete.code}/supplement-request.pdf" in page.text
    r = clerk.get(f"/dossiers/{world.incomplete.code}/supplement-request.pdf")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    text = pypdfium2.PdfDocument(io.BytesIO(r.content))[0].get_textpage().get_text_range()
    assert "PHIẾU YÊU CẦU BỔ SUNG" in text
    assert "Căn cước công dân của người yêu cầu" in text  # what is missing
    assert world.incomplete.code in text
    r = clerk.get(f"/api/v1/dossiers/{world.complete.code}/supplement-request.pdf")
    assert r.status_code == 409
    actions = [e.action for e in world.services.audit.entries(target_id=world.incomplete.code)]
    assert actions == ["dossier.supplement_notice_printed"]


def test_a_supplement_form_without_a_choice_asks_again(world: WebWorld) -> None:
    clerk = sign_in(world.app, "clerk")
    page = clerk.get(f"/dossiers/{world.complete.code}")
    r = clerk.post(f"/dossiers/{world.complete.code}/supplement-request",
                   data={"csrftoken": csrf_from(page.text)})  # fmt: skip
    assert r.status_code == 200
    assert "Hãy chọn ít nhất một thành phần hồ sơ còn thiếu." in r.text
    assert world.services.register.get(world.complete.code).status.value == "received"


def test_declaration_fields_show_their_labels_and_ids_in_sections(world: WebWorld) -> None:
    import hashlib

    from dossiers.register import DocumentIn

    svc = world.services
    fields = {
        "nguoi_yeu_cau.ho_ten": {"value": "Phạm Thị Dung", "needs_review": False},
        "nguoi_yeu_cau.so_dinh_danh": {"value": "049190004321", "needs_review": False},
        "khai_sinh.ho_ten": {"value": "Phạm Gia Bảo", "needs_review": True},
    }
    doc = DocumentIn(path="/scans/tk.pdf", kind="to-khai-khai-sinh",
                     sha256=hashlib.sha256(b"tk").hexdigest(), fields=fields)  # fmt: skip
    dossier = svc.register.intake(svc.catalogue.get("dang-ky-khai-sinh"), [doc],
                                  citizen_name="Phạm Thị Dung").dossier  # fmt: skip
    clerk = sign_in(world.app, "clerk")
    listing = clerk.get("/api/v1/dossiers", params={"q": "pham thi dung"}).json()
    assert listing[0]["id_numbers"] == ["049******321"]
    detail = clerk.get(f"/api/v1/dossiers/{dossier.code}").json()
    labels = detail["documents"][0]["field_labels"]
    assert labels["nguoi_yeu_cau.so_dinh_danh"] == "Số định danh cá nhân (người yêu cầu)"
    assert labels["khai_sinh.ho_ten"] == "Họ, chữ đệm, tên (người được khai sinh)"
    page = clerk.get(f"/dossiers/{dossier.code}").text
    assert "Họ, chữ đệm, tên (người được khai sinh)</dt>" in page


def test_every_extracted_field_has_a_vietnamese_label_of_its_own(world: WebWorld) -> None:
    """Clerks read labels, never keys, and no two fields of one document read alike."""
    from extractors.fields.templates import templates

    for kind, template in templates().items():
        keys = [spec.key for spec in template.fields if spec.output]
        labels = {key: world.services.field_label(kind, key) for key in keys}
        assert [k for k, label in labels.items() if label == k] == [], kind
        assert len(set(labels.values())) == len(labels), (kind, labels)
    assert world.services.field_label("van-ban", "trich_yeu") == "Trích yếu"
    assert world.services.field_label("to-khai-khai-sinh", "ngay_lam").startswith("Ngày làm")


def test_apology_letter_for_a_late_dossier(world: WebWorld) -> None:
    code = world.complete.code  # due 04/05/2026, long past: overdue
    before = on_time_totals(world)
    assert before["late_without_apology"] == 1
    clerk = sign_in(world.app, "clerk")
    page = clerk.get(f"/dossiers/{code}")
    assert "Lập phiếu xin lỗi" in page.text
    r = clerk.post(f"/dossiers/{code}/apology", data={
        "csrftoken": csrf_from(page.text), "new_due_date": "2026-05-04",
        "reasons": "Chờ xác minh"})  # fmt: skip
    assert r.status_code == 400  # not after the due date
    reasons = "Chờ xác minh thông tin từ nơi cư trú trước đây\nCán bộ thụ lý nghỉ ốm"
    r = clerk.post(f"/dossiers/{code}/apology", data={
        "csrftoken": csrf_from(page.text), "new_due_date": "2026-05-08",
        "reasons": reasons})  # fmt: skip
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    text = pypdfium2.PdfDocument(io.BytesIO(r.content))[0].get_textpage().get_text_range()
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in text
    assert code in text
    assert world.services.register.get(code).new_due_date.isoformat() == "2026-05-08"
    assert on_time_totals(world)["late_without_apology"] == 0
    [entry] = world.services.audit.entries(target_id=code)
    assert (entry.action, entry.details) == (
        "dossier.apology_issued",
        {"status": "received", "new_due_date": "2026-05-08"},
    )
    r = clerk.post(f"/api/v1/dossiers/{world.signed.code}/apology", headers=csrf_header(clerk),
                   json={"new_due_date": "2026-06-01", "reasons": ["x"]})  # fmt: skip
    assert r.status_code == 409  # resolved dossiers need none


def on_time_totals(world: WebWorld) -> dict[str, object]:
    admin = sign_in(world.app, "admin")
    r = admin.get("/api/v1/reports/on-time", params={"date_from": "2026-04-01"})
    total: dict[str, object] = r.json()["total"]
    return total
