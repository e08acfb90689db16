"""Render a DOCX draft to PDF (LibreOffice headless) and PDF pages to PNG (pdftoppm), with
the 公文 fonts mapped to free fonts where the originals are not installed.

The DOCX names the fonts of an official's PC (assistant/reports/gongwen.py). On Linux they are
absent; this fontconfig substitution picks free fonts of the same kind (Debian packages
fonts-noto-cjk and fonts-lxgw-wenkai, installed by scripts/setup.sh):

    方正小标宋简体 (title)      -> Noto Serif CJK SC Bold   (a heavy Song face, like 小标宋)
    仿宋 / 仿宋_GB2312 (body)   -> Noto Serif CJK SC        (no free 仿宋 with simplified
                                                            characters is packaged in Debian;
                                                            cwTeX 仿宋 lacks a third of them)
    黑体 (一、 headings)         -> Noto Sans CJK SC
    楷体 / 楷体_GB2312 (（一）)   -> LXGW WenKai 霞鹜文楷     (AR PL UKai/KaitiM draw their glyphs
                                                            visibly smaller than the em box)
    宋体 (page numbers)         -> Noto Serif CJK SC

`python -m assistant.reports.render --fontconfig PATH` writes the rules (setup.sh installs them
in /etc/fonts/conf.d so that any LibreOffice on the machine uses them); docx_to_pdf applies
them itself through FONTCONFIG_FILE either way.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from assistant.errors import AssistantError

# font named in the DOCX -> (installed free family, weight or None)
FALLBACK = {
    "方正小标宋简体": ("Noto Serif CJK SC", "bold"),
    "方正小标宋_GBK": ("Noto Serif CJK SC", "bold"),
    "仿宋": ("Noto Serif CJK SC", None),
    "仿宋_GB2312": ("Noto Serif CJK SC", None),
    "FangSong": ("Noto Serif CJK SC", None),
    "方正仿宋_GBK": ("Noto Serif CJK SC", None),
    "黑体": ("Noto Sans CJK SC", None),
    "SimHei": ("Noto Sans CJK SC", None),
    "方正黑体_GBK": ("Noto Sans CJK SC", None),
    "楷体": ("LXGW WenKai", None),
    "楷体_GB2312": ("LXGW WenKai", None),
    "KaiTi": ("LXGW WenKai", None),
    "方正楷体_GBK": ("LXGW WenKai", None),
    "宋体": ("Noto Serif CJK SC", None),
    "SimSun": ("Noto Serif CJK SC", None),
    "Segoe UI Symbol": ("DejaVu Sans", None),  # ☑/☐ (Noto Color Emoji has them too, but prints nothing)
}
SYSTEM_CONF = "/etc/fonts/conf.d/65-brand-assistant-gongwen.conf"


class RenderError(AssistantError):
    """LibreOffice or pdftoppm is missing or failed."""


def fontconfig_rules() -> str:
    out = ['<?xml version="1.0"?>', '<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">', "<fontconfig>",
           "  <description>brand-assistant: free fonts for the fonts named in 公文 drafts</description>"]
    for name, (family, weight) in FALLBACK.items():
        out += ['  <match target="pattern">', f'    <test qual="any" name="family"><string>{name}</string></test>',
                f'    <edit name="family" mode="assign" binding="strong"><string>{family}</string></edit>']
        if weight:
            out.append(f'    <edit name="weight" mode="assign" binding="strong"><const>{weight}</const></edit>')
        out.append("  </match>")
    return "\n".join(out + ["</fontconfig>", ""])


def _fontconfig_file(workdir: Path) -> Path:
    rules = workdir / "gongwen-fonts.conf"
    rules.write_text(fontconfig_rules(), encoding="utf-8")
    conf = workdir / "fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n<fontconfig>\n'
                    '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
                    f"  <include>{rules}</include>\n</fontconfig>\n", encoding="utf-8")
    return conf


def missing_tools() -> list[str]:
    """Debian packages needed to render that are not installed here."""
    out = []
    if not (shutil.which("soffice") or shutil.which("libreoffice")):
        out.append("libreoffice-writer-nogui")
    if not shutil.which("pdftoppm"):
        out.append("poppler-utils")
    return out


def docx_to_pdf(docx: Path, out_dir: Path, timeout: float = 300) -> Path:
    """LibreOffice headless, with its own throw-away profile (parallel runs do not collide)."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        raise RenderError("未安装 LibreOffice（Debian 软件包 libreoffice-writer-nogui），无法生成 PDF。")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ba-lo-") as tmp:
        env = {**os.environ, "FONTCONFIG_FILE": str(_fontconfig_file(Path(tmp))), "HOME": tmp}
        cmd = [exe, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--norestore", "--nolockcheck",
               "--convert-to", "pdf", "--outdir", str(out_dir), str(docx)]
        try:
            r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RenderError(f"LibreOffice 转换超时（{timeout:.0f} 秒）。") from None
    pdf = out_dir / (Path(docx).stem + ".pdf")
    if r.returncode != 0 or not pdf.exists():
        raise RenderError(f"LibreOffice 转换失败：{(r.stderr or r.stdout).strip()[:300]}")
    return pdf


def pdf_to_pngs(pdf: Path, prefix: Path, first: int = 1, last: int = 2, dpi: int = 70) -> list[Path]:
    """Pages first..last as PNG files prefix-N.png (pdftoppm numbering)."""
    if not shutil.which("pdftoppm"):
        raise RenderError("未安装 pdftoppm（Debian 软件包 poppler-utils），无法生成页面图片。")
    for old in prefix.parent.glob(prefix.name + "-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(first), "-l", str(last), str(pdf), str(prefix)],
                   check=True, capture_output=True, timeout=120)
    return sorted(prefix.parent.glob(prefix.name + "-*.png"))


def pdf_fonts(pdf: Path) -> list[str]:
    """Fonts a PDF embeds (pdffonts), to check which free font rendered which role."""
    r = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, timeout=60)
    return [line.split()[0].split("+")[-1] for line in r.stdout.splitlines()[2:] if line.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="公文 fonts for LibreOffice: write the fontconfig substitution")
    ap.add_argument("--fontconfig", metavar="PATH", help=f"write the rules to PATH (setup.sh: {SYSTEM_CONF})")
    args = ap.parse_args(argv)
    if args.fontconfig:
        path = Path(args.fontconfig)
        text = fontconfig_rules()
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    else:
        print(fontconfig_rules())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
