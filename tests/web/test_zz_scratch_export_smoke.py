import io, zipfile, json
from pathlib import Path
from web_helpers import build_world, sign_in
from storage.record import RecordInfo

def test_smoke(tmp_path: Path, s3_config) -> None:
    world = build_world(tmp_path / "home", s3_config)
    f = tmp_path / "to-khai.txt"; f.write_text("Nguyễn Thị Hằng", encoding="utf-8")
    put = world.services.archive.put([f], RecordInfo(dossier_code=world.signed.code, title="Khai sinh", id_numbers=("048190012345",)))
    a = sign_in(world.app, "archivist")
    r = a.get(f"/api/v1/archive/records/{put.record_id}/export.zip")
    assert r.status_code == 200, r.text
    print(r.headers)
    z = zipfile.ZipFile(io.BytesIO(r.content))
    print(z.namelist())
    print(json.loads(z.read("verification.json")))
    page = a.get(f"/archive/records/{put.record_id}")
    print(page.text[page.text.find("<main>"):])
    r = a.get(f"/archive/records/{put.record_id}/export.zip")
    assert r.status_code == 200
    r = a.get(f"/archive/records/r{'0'*24}/export.zip"); print(r.status_code)
    r = a.get(f"/api/v1/archive/records/nonsense/export.zip"); print(r.status_code, r.text)
    import fastapi.testclient as tc
    r = tc.TestClient(world.app).get(f"/api/v1/archive/records/{put.record_id}/export.zip", headers={"Authorization": f"Bearer {world.token}"}); print(r.status_code, r.text)
