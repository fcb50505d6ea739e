"""Read a batch of submissions from a folder or a zip, without trusting a byte of it.

Layout: ``STUDENT/NOTEBOOK.ipynb`` or nbgrader's ``STUDENT/ASSIGNMENT/NOTEBOOK.ipynb``. Files are
read into memory; nothing is ever extracted, so a zip cannot write anywhere. Zip entries with an
absolute path, a ``..`` component, a link, or an unreasonable size are refused and reported.
File names that are not UTF-8 are kept, with the bad bytes written as ``%XX``.
"""
import hashlib
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_FILE = 20 << 20        # bytes: no notebook of this course comes near
MAX_TOTAL = 1 << 30        # bytes: a whole batch


TIMESTAMP = "timestamp.txt"


@dataclass
class Submission:
    student: str
    files: dict = field(default_factory=dict)     # relative name -> bytes
    notes: list = field(default_factory=list)     # (status, message)
    zip_time: str | None = None                   # the newest zip entry's time, as UTC

    @property
    def timestamp_text(self):
        """When it was handed in, as nbgrader reads it: ``timestamp.txt`` in the submission
        folder, else (a zip export) the time of its newest entry; None when neither says."""
        if TIMESTAMP in self.files:
            return self.files[TIMESTAMP].decode("utf-8", "replace").strip() or None
        return self.zip_time

    @property
    def timestamp(self):
        from nbgrader.utils import parse_utc
        text = self.timestamp_text
        try:
            return parse_utc(text) if text else None
        except (ValueError, OverflowError):
            return None

    def digest(self, extra=""):
        h = hashlib.sha256(extra.encode())
        for name in sorted(self.files):
            h.update(name.encode("utf-8", "surrogateescape") + b"\0")
            h.update(hashlib.sha256(self.files[name]).digest())
        return h.hexdigest()


def clean_name(raw):
    """Bytes of a file name as text: UTF-8 where it is, ``%XX`` for each byte where it is not."""
    if isinstance(raw, str):
        raw = os.fsencode(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        out, i = [], 0
        while i < len(raw):
            for j in (4, 3, 2, 1):
                try:
                    out.append(raw[i:i + j].decode("utf-8"))
                    i += j
                    break
                except UnicodeDecodeError:
                    continue
            else:
                out.append(f"%{raw[i]:02X}")
                i += 1
        return "".join(out)


def _unsafe(parts):
    return any(p in ("..", "") for p in parts)


def collect(path, assignment):
    """Return ``(submissions by student, refused entries)`` from a folder or a ``.zip``."""
    path = Path(path)
    if path.is_file() and zipfile.is_zipfile(path):
        return _from_zip(path, assignment)
    if not path.is_dir():
        raise FileNotFoundError(f"SUBMISSIONS must be a folder or a .zip: {path}")
    return _from_folder(path, assignment)


def _add(subs, student, rel_parts, data, assignment):
    sub = subs.setdefault(student, Submission(student))
    if rel_parts and rel_parts[0] == assignment and len(rel_parts) > 1:
        rel_parts = rel_parts[1:]
    sub.files["/".join(rel_parts)] = data


def _from_folder(path, assignment):
    subs, refused = {}, []
    root = os.fsencode(path)
    total = 0
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        name = clean_name(entry.name)
        if entry.is_symlink():
            refused.append((name, "a link"))
            continue
        if not entry.is_dir():
            refused.append((name, "not inside a student's folder"))
            continue
        subs.setdefault(name, Submission(name))
        for dirpath, dirnames, filenames in os.walk(entry.path):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(b".")
                                 and not os.path.islink(os.path.join(dirpath, d)))
            for f in sorted(filenames):
                full = os.path.join(dirpath, f)
                rel = [clean_name(p) for p in os.path.relpath(full, entry.path).split(b"/")]
                shown = "/".join([name] + rel)
                if f.startswith(b".") or os.path.islink(full):
                    continue
                size = os.path.getsize(full)
                if size > MAX_FILE or total + size > MAX_TOTAL:
                    refused.append((shown, f"too large ({size} bytes)"))
                    continue
                total += size
                with open(full, "rb") as fh:
                    _add(subs, name, rel, fh.read(), assignment)
    return subs, refused


def _raw_name(info):
    if info.flag_bits & 0x800:
        return info.filename.encode("utf-8")
    try:
        return info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename.encode("utf-8", "surrogateescape")


def _from_zip(path, assignment):
    subs, refused = {}, []
    total = 0
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            name = clean_name(_raw_name(info)).replace("\\", "/")
            if info.is_dir():
                parts = PurePosixPath(name).parts
                if name.startswith("/") or ".." in parts:
                    refused.append((name, "absolute path or '..' in a zip entry"))
                elif len(parts) == 1:
                    subs.setdefault(parts[0], Submission(parts[0]))
                continue
            parts = name.split("/")
            if name.startswith("/") or (len(name) > 1 and name[1] == ":") or _unsafe(parts):
                refused.append((name, "absolute path or '..' in a zip entry"))
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                refused.append((name, "a link"))
                continue
            if len(parts) < 2:
                refused.append((name, "not inside a student's folder"))
                continue
            if parts[-1].startswith(".") or any(p.startswith(".") or p == "__MACOSX"
                                                for p in parts[:-1]):
                continue
            if info.file_size > MAX_FILE or total + info.file_size > MAX_TOTAL:
                refused.append((name, f"too large ({info.file_size} bytes)"))
                continue
            with zf.open(info) as fh:
                data = fh.read(MAX_FILE + 1)
            if len(data) > MAX_FILE:
                refused.append((name, "too large once uncompressed"))
                continue
            total += len(data)
            _add(subs, parts[0], parts[1:], data, assignment)
            when = "%04d-%02d-%02d %02d:%02d:%02d UTC" % info.date_time
            sub = subs[parts[0]]
            sub.zip_time = max(sub.zip_time or when, when)
    return subs, refused


def pick_notebook(sub, name, only_one):
    """The bytes to grade as ``NAME.ipynb``, and notes; None when there is nothing to grade."""
    want = f"{name}.ipynb"
    if want in sub.files:
        return sub.files[want], []
    if not sub.files:
        return None, [("empty", "the submission folder is empty")]
    notebooks = sorted(f for f in sub.files if f.endswith(".ipynb") and "/" not in f)
    if only_one and len(notebooks) == 1:
        return sub.files[notebooks[0]], [("renamed", f"graded {notebooks[0]} as {want}")]
    found = ", ".join(sorted(sub.files)[:5])
    if notebooks:
        return None, [("invalid", f"no {want}; found {found}")]
    return None, [("invalid", f"no notebook: expected {want}, found {found}")]


def extra_files(sub):
    """The submission's files other than notebooks and its timestamp: they go beside the
    notebooks when it runs, under the assignment's own files, as in ``nbgrader autograde``."""
    return {n: d for n, d in sub.files.items() if not n.endswith(".ipynb") and n != TIMESTAMP}


def read_roster(path):
    """Student ids from a CSV: the column ``id``, ``student_id`` or ``student``, else the first."""
    import csv
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return []
    header = [h.strip().lower() for h in rows[0]]
    for key in ("id", "student_id", "student"):
        if key in header:
            col = header.index(key)
            return [r[col].strip() for r in rows[1:] if len(r) > col and r[col].strip()]
    return [r[0].strip() for r in rows if r and r[0].strip()]
