"""Pin every container image strikewatch deploys by digest (deploy/docker/images.toml).

    .venv/bin/python scripts/pin_images.py            # resolve each tag, write digests, rewrite references
    .venv/bin/python scripts/pin_images.py --check    # exit 1 if an image is pending or its tag moved

Resolves ``name:tag`` to the digest of its manifest list (all platforms) through the Docker
Hub registry API (a HEAD of /v2/<repo>/manifests/<tag>: the Docker-Content-Digest header),
then writes ``digest`` into images.toml and ``name:tag@digest`` into docker-compose.yml,
deploy/docker/Dockerfile* and deploy/flink/*.yaml. Needs network access to
auth.docker.io and registry-1.docker.io, nothing else. Review the diff, then commit.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "deploy" / "docker" / "images.toml"
ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    ]
)
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def files() -> list[Path]:
    return [
        ROOT / "docker-compose.yml",
        *sorted((ROOT / "deploy" / "docker").glob("Dockerfile*")),
        *sorted((ROOT / "deploy" / "flink").glob("*.yaml")),
    ]


def load() -> list[dict]:
    return tomllib.loads(LOCK.read_text())["image"]


def resolve(ref: str, timeout: float = 30.0) -> str:
    name, _, tag = ref.rpartition(":")
    repo = name if "/" in name else f"library/{name}"
    token_url = f"https://auth.docker.io/token?service=registry.docker.io&scope=repository:{repo}:pull"
    with urllib.request.urlopen(token_url, timeout=timeout) as r:  # noqa: S310 - fixed https URL
        token = json.load(r)["token"]
    req = urllib.request.Request(
        f"https://registry-1.docker.io/v2/{repo}/manifests/{tag}",
        method="HEAD",
        headers={"Authorization": f"Bearer {token}", "Accept": ACCEPT},
    )
    with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310
        digest = r.headers["Docker-Content-Digest"]
    if not DIGEST.fullmatch(digest or ""):
        raise ValueError(f"{ref}: registry answered digest {digest!r}")
    return digest


def rewrite_references(ref: str, digest: str) -> list[Path]:
    """``ref`` or ``ref@<old digest>`` -> ``ref@digest`` in every deployment file."""
    pattern = re.compile(re.escape(ref) + r"(@sha256:[0-9a-f]{64})?(?=[\s\"']|$)", re.M)
    changed = []
    for path in files():
        text = path.read_text()
        new = pattern.sub(f"{ref}@{digest}", text)
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed


def write_lock(images: list[dict]) -> None:
    text = LOCK.read_text()
    header = text[: text.index("[[image]]")]
    blocks = []
    for img in images:
        lines = ["[[image]]", f'ref = "{img["ref"]}"', f'digest = "{img.get("digest", "")}"']
        for key in ("verified", "pending", "candidate"):
            if img.get(key):
                lines.append(f"{key} = {json.dumps(img[key])}")
        blocks.append("\n".join(lines))
    LOCK.write_text(header + "\n\n".join(blocks) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only compare; exit 1 on a pending image or a moved tag")
    args = ap.parse_args(argv)
    images, problems = load(), []
    for img in images:
        try:
            current = resolve(img["ref"])
        except Exception as e:  # noqa: BLE001 - report every image, then fail
            problems.append(f"{img['ref']}: cannot resolve: {e}")
            continue
        if args.check:
            if img.get("digest") != current:
                problems.append(f"{img['ref']}: pinned {img.get('digest') or '(pending)'}, registry has {current}")
            continue
        img.update(digest=current, verified=f"registry-1.docker.io manifest of {img['ref']}")
        img.pop("pending", None)
        img.pop("candidate", None)
        for path in rewrite_references(img["ref"], current):
            print(f"{path.relative_to(ROOT)}: {img['ref']}@{current}")
    if not args.check:
        write_lock(images)
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
