"""Issue 12 item 4: the marital-status procedure completes from its own declaration.

The declaration (Circular 04/2020/TT-BTP) is recognised as the procedure's component, so the
dossier is complete at intake, and the result (Giấy xác nhận tình trạng hôn nhân) is pre-filled
from it: the marital status and the purpose the citizen declared, the person's identity."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from flows.context import current_office
from flows.intake import intake_dossier
from flows.result import result_inputs
from samples.documents import make_card, make_marital_declaration


@pytest.mark.slow
def test_marital_status_dossier_is_complete_and_its_result_prefilled(
    office_home: Path, tmp_path: Path
) -> None:
    declaration = make_marital_declaration(31, "scanned")
    card = make_card(32, "clean")
    paths = [tmp_path / "to-khai.png", tmp_path / "cccd.jpg"]
    cv2.imwrite(str(paths[0]), declaration.image)
    cv2.imwrite(str(paths[1]), card.image, [cv2.IMWRITE_JPEG_QUALITY, 92])

    result = intake_dossier(
        [str(p) for p in paths], "xac-nhan-tinh-trang-hon-nhan", "2026-11-23T09:00:00+07:00"
    )
    assert result["status"] == "received"
    assert result["missing_components"] == []
    assert sorted(d["kind"] for d in result["documents"]) == ["cccd", "to-khai-xac-nhan-hon-nhan"]

    office = current_office()
    dossier = office.register.get(result["dossier_code"])
    assert dossier.citizen_name is not None
    assert (
        dossier.citizen_name.casefold() == str(declaration.truth["nguoi_yeu_cau.ho_ten"]).casefold()
    )
    inputs = result_inputs(office.catalogue, dossier)
    truth = declaration.truth
    assert inputs.values["marital_status"] == truth["nguoi_duoc_cap.tinh_trang_hon_nhan"]
    assert inputs.values["purpose"] == truth["nguoi_duoc_cap.muc_dich"]
    # the person concerned comes from the declaration, not from the requester's card
    assert inputs.values["id_paper"] == truth["nguoi_duoc_cap.so_dinh_danh"]
    assert inputs.values["birth_date"] == truth["nguoi_duoc_cap.ngay_sinh"]
    assert not [m for m in inputs.missing if not m.startswith("registration_number")], (
        inputs.missing
    )
