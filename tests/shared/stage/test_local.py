"""Directory backend specifics: a full disk and stray temporaries."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from shared.stage.local import LocalStage

REPO = Path(__file__).resolve().parents[3]

# Runs in a child process whose file-size limit plays the part of a full disk: the kernel
# refuses the write with EFBIG exactly where ENOSPC would come on a real full volume.
_FULL_DISK_CHILD = textwrap.dedent(
    """
    import json, resource, signal, sys
    from pathlib import Path
    from shared.errors import StageError
    from shared.stage.local import LocalStage

    stage = LocalStage(Path(sys.argv[1]))
    stage.write_batch("r/raw/Contact/00000", [{"Id": "003A", "n": 1}])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    records = ({"Id": f"003{i:015d}", "blob": str(i) * 200} for i in range(5000))
    try:
        stage.write_batch("r/raw/Contact/00001", records)
    except StageError as exc:
        print(json.dumps({"error": str(exc)}))
    else:
        print(json.dumps({"error": None}))
    """
)


def test_full_disk_gives_one_clear_error_and_no_partial_batch(tmp_path: Path) -> None:
    root = tmp_path / "stage"
    proc = subprocess.run(
        [sys.executable, "-c", _FULL_DISK_CHILD, str(root)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    message = json.loads(proc.stdout.strip().splitlines()[-1])["error"]
    assert message is not None, "the write should have failed"
    assert "r/raw/Contact/00001.jsonl.gz" in message
    assert "free space" in message
    stage = LocalStage(root)
    assert stage.list_batches("r/raw/Contact/") == ["r/raw/Contact/00000"]
    assert stage.batch_manifest("r/raw/Contact/00001") is None
    # The temporary file was removed; nothing else is left in the directory.
    leftovers = sorted(p.name for p in (root / "r/raw/Contact").iterdir())
    assert leftovers == ["00000.jsonl.gz", "00000.manifest.json"]


def test_stray_temporaries_are_invisible(tmp_path: Path) -> None:
    stage = LocalStage(tmp_path)
    stage.write_batch("r/raw/A/00000", [{"Id": "1"}])
    (tmp_path / "r/raw/A/.00001.jsonl.gz.tmp-dead").write_bytes(b"half")
    assert stage.list_keys("r/") == ["r/raw/A/00000.jsonl.gz", "r/raw/A/00000.manifest.json"]
