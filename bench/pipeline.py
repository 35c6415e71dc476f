"""Intake throughput against raw Tesseract on the same pages, and peak memory of a big dossier.

    .venv/bin/python bench/pipeline.py [--pages 20] [--big 200] [--skip-memory]

1. A `--pages`-page dossier (one scanned PDF of generated Vietnamese administrative pages) goes
   through the real `intake-dossier` flow (embedded Prefect, embedded S3, Tesseract), after a
   warm-up intake so Prefect's start-up is not counted. The baseline is raw `tesseract -l vie`
   on the same pages rasterised at 300 dpi, as many processes at a time as the flow uses (the
   cores). Target: pipeline wall time ≤ 1.15 × baseline wall time.
2. A `--big`-page dossier is taken in by `motcua intake` in a child process while the summed
   resident memory of that process tree is sampled. Target: peak < 1 GiB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_dossier_pdf(path: Path, pages: int, seed: int) -> None:
    """A scanned-looking multi-page PDF (JPEG pages at 300 dpi), written page by page."""
    import cv2
    from PIL import Image

    from samples.pages import degrade, render_page

    images = []
    for i in range(pages):
        page = degrade(render_page(seed + i), "scanned", seed + i)
        rgb = cv2.cvtColor(page.image, cv2.COLOR_BGR2RGB) if page.image.ndim == 3 else page.image
        images.append(Image.fromarray(rgb).convert("RGB"))
        if len(images) == 10 or i == pages - 1:  # bounded memory while generating
            first, rest = images[0], images[1:]
            first.save(
                path,
                "PDF",
                resolution=300,
                save_all=True,
                append_images=rest,
                append=path.exists(),
                quality=85,
            )
            images = []


def rasterise(pdf: Path, out_dir: Path) -> list[Path]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf))
    paths = []
    for i in range(len(document)):
        image = document[i].render(scale=300 / 72).to_pil()
        target = out_dir / f"page-{i + 1:03d}.png"
        image.save(target)
        paths.append(target)
    document.close()
    return paths


def raw_tesseract(pages: list[Path], workers: int) -> tuple[float, float]:
    """(wall seconds with `workers` processes at a time, summed per-page seconds)."""
    durations: list[float] = []

    def one(page: Path) -> None:
        started = time.perf_counter()
        subprocess.run(["tesseract", str(page), "-", "-l", "vie"], capture_output=True, check=True)
        durations.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, pages))
    return time.perf_counter() - started, sum(durations)


def tree_rss(pid: int, by_process: dict[str, int] | None = None) -> int:
    """Resident bytes of `pid` and all its descendants; `by_process` keeps each one's peak."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        stack.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) * 1024
                    total += rss
                    if by_process is not None:
                        argv = Path(f"/proc/{current}/cmdline").read_bytes().split(b"\0")
                        name = " ".join(a.decode(errors="replace") for a in argv[:4])[:60]
                        by_process[name] = max(by_process.get(name, 0), rss)
        except OSError:
            continue
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--big", type=int, default=200)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    cores = max(1, len(os.sched_getaffinity(0)))

    work = Path(tempfile.mkdtemp(prefix="motcua-bench-pipeline-"))
    os.environ.update(MOTCUA_HOME=str(work / "home"), MOTCUA_CONFIG=str(work / "none.toml"))
    for key in [k for k in os.environ if k.startswith("MOTCUA_S3_")]:
        del os.environ[key]

    from flows.runtime import configure_prefect

    configure_prefect(work / "home")
    from flows.intake import intake_dossier
    from motcua.services import embedded_s3
    from motcua.settings import load_settings

    server = embedded_s3(load_settings())
    server.up()
    try:
        warm = work / "warm.pdf"
        make_dossier_pdf(warm, 1, seed=900)
        intake_dossier([str(warm)], "chung-thuc-ban-sao")  # Prefect and the store warmed up

        dossier = work / "dossier.pdf"
        make_dossier_pdf(dossier, args.pages, seed=1000)
        raster = work / "raster"
        raster.mkdir()
        pages = rasterise(dossier, raster)

        raw_wall, raw_sum = raw_tesseract(pages, cores)
        started = time.perf_counter()
        result = intake_dossier([str(dossier)], "chung-thuc-ban-sao")
        flow_wall = time.perf_counter() - started
        assert result["documents"], result

        print(f"\nintake of a {args.pages}-page scanned dossier, {cores} cores")
        print(f"| {'measure':<38} | {'seconds':>8} | {'pages/min':>9} |")
        print(f"|{'-' * 40}|{'-' * 10}|{'-' * 11}|")
        rows = [
            (f"raw tesseract -l vie, {cores} at a time (wall)", raw_wall),
            ("raw tesseract, sum of per-page times", raw_sum),
            ("motcua intake flow (wall)", flow_wall),
        ]
        for name, seconds in rows:
            print(f"| {name:<38} | {seconds:>8.1f} | {args.pages * 60 / seconds:>9.1f} |")
        overhead = flow_wall / raw_wall - 1
        verdict = "meets" if overhead <= 0.15 else "MISSES"
        print(f"pipeline overhead vs raw wall: {overhead:+.1%} ({verdict} the ≤ 15% target)")

        if not args.skip_memory:
            big = work / "big.pdf"
            make_dossier_pdf(big, args.big, seed=5000)
            env = dict(os.environ)
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "motcua",
                    "intake",
                    str(big),
                    "--procedure",
                    "chung-thuc-ban-sao",
                    "--json",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            peak = 0
            stop = threading.Event()
            by_process: dict[str, int] = {}

            def sample() -> None:
                nonlocal peak
                while not stop.is_set():
                    peak = max(peak, tree_rss(child.pid, by_process))
                    time.sleep(0.2)

            sampler = threading.Thread(target=sample, daemon=True)
            started = time.perf_counter()
            sampler.start()
            _, err = child.communicate()
            stop.set()
            sampler.join()
            seconds = time.perf_counter() - started
            if child.returncode != 0:
                print(err.decode(errors="replace")[-2000:])
                return 1
            mib = peak / 2**20
            print(
                f"\n{args.big}-page dossier: {seconds:.0f} s, peak memory of the process tree "
                f"{mib:.0f} MiB ({'meets' if mib < 1024 else 'MISSES'} the < 1 GiB target)"
            )
            print("peak resident memory per process (peaks need not coincide):")
            for name, rss in sorted(by_process.items(), key=lambda kv: -kv[1])[:6]:
                print(f"  {rss / 2**20:7.0f} MiB  {name}")
        return 0
    finally:
        server.down()


if __name__ == "__main__":
    raise SystemExit(main())
