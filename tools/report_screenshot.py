"""Regenerate docs/report.png: the report of the bundled example sellers, as Chromium draws it.

    python tools/report_screenshot.py [--out docs/report.png] [--height 1500]

Screens examples/sellers.csv (default pack, seller names from ``seller_name``), writes the
report beside the screenshot's temporary directory and captures the top of the page at
1200 CSS pixels wide. Needs Debian's ``chromium`` (and, for the Chinese seller names, a CJK
font such as ``fonts-noto-cjk``).
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
from chromium import Browser, find_chromium  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "report.png"))
    parser.add_argument("--height", type=int, default=1500, help="CSS pixels from the top")
    args = parser.parse_args()
    binary = find_chromium()
    if binary is None:
        print("chromium not found: apt-get install chromium", file=sys.stderr)
        return 1
    from notorious_screen.cli import main as cli

    out = Path(args.out).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # the page names its input: "screened.csv", not a temporary path
        screened, page = Path("screened.csv"), Path(tmp) / "report.html"
        sellers = str(REPO / "examples" / "sellers.csv")
        if cli(["screen", sellers, "--name-column", "seller_name", "-o", str(screened)]):
            return 1
        report = ["report", str(screened), "--seller-column", "seller_name", "-o", str(page)]
        if cli([*report, "--title", "Screening report: examples/sellers.csv"]):
            return 1
        with Browser(binary) as browser:
            browser.open(page)
            browser.call(
                "Emulation.setDeviceMetricsOverride",
                {"width": 1200, "height": args.height, "deviceScaleFactor": 1, "mobile": False},
            )
            clip = {"x": 0, "y": 0, "width": 1200, "height": args.height, "scale": 1}
            shot = browser.call("Page.captureScreenshot", {"format": "png", "clip": clip})
            if browser.errors():
                print(f"the page reported errors: {browser.errors()}", file=sys.stderr)
                return 1
        os.chdir(REPO)
    out.write_bytes(base64.b64decode(shot["data"]))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
