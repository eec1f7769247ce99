#!/usr/bin/env python3
"""Build the Lambda deployment tree of one function, as ``sam build`` (makefile method) wants it.

``handlers/Makefile`` calls this for ``build-WorkerFunction`` and ``build-WebhookFunction`` with
SAM's ``ARTIFACTS_DIR``, and for ``build-FeatureFunctionLambda``: the user's feature function
folder (``features/``: ``app.py`` and its own ``requirements.txt``), built the same way. It needs
no Docker and no Linux Python: pip installs the Linux cp312 manylinux wheels for the chosen
architecture (``--platform``/``--python-version``/``--only-binary``), then the tree is trimmed of
what the bot never imports (for the feature function: only of what no program imports), shared
libraries are stripped, every ELF file is checked to still find the libraries it links, and the
Python files are compiled to ``unchecked-hash`` ``.pyc`` files (SAM zips every file with a 1980
timestamp, so ordinary timestamp-checked ``.pyc`` files would be stale at every cold start).

The build is reproducible: the same source and pins give the same bytes, whatever the folder,
the time or the umask (no ``direct_url.json`` naming pip's scratch folder, ``.pyc`` files that
name ``/var/task`` rather than the build folder, normalised modes and timestamps, no duration in
the build record). SAM names the uploaded zip after a checksum of the tree
(``tree_digest``), so an unchanged build uploads nothing and publishes no new version.

Standard library only, Python 3.9+, so that any ``python3`` with pip can run it. Run
``python scripts/build_lambda.py --help`` for the options; ``docs/deploy.md`` explains the choices.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import hashlib
import json
import mmap
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Lambda's limit for a function and all its layers, unzipped.
LAMBDA_UNZIPPED_LIMIT = 262_144_000
# The margin this project keeps under that limit, room for a dependency's next release.
SIZE_MARGIN = 20 * 1024 * 1024
TARGET_PYTHON = "3.12"
# Lambda's python3.12 runtime is Amazon Linux 2023: glibc 2.34, so wheels up to manylinux_2_34 run.
GLIBC_MAX_MINOR = 34
MARKER = ".numerai-bot-build.json"
# Where Lambda unpacks the function: the path compiled code names in tracebacks.
LAMBDA_TASK_ROOT = "/var/task"
# 1980-01-01T00:00:00Z, the earliest zip timestamp and the one SAM's zip gives every entry.
ZIP_EPOCH = 315_532_800

# What the Lambda python3.12 runtime already provides (in /var/lang/lib/python3.12/site-packages).
AWS_SDK_DISTRIBUTIONS = ("boto3", "botocore", "s3transfer")
AWS_SDK_TOP_LEVEL = ("boto3", "botocore", "s3transfer")

# Which requirements each function installs (names as in handlers/requirements.txt); None = all.
FUNCTION_PACKAGES: dict[str, tuple[str, ...] | None] = {
    # The webhook parses a request and invokes the worker: powertools, and boto3 from the
    # runtime (powertools' own bounds on jmespath, which it shares with botocore, suffice).
    "webhook": ("aws-lambda-powertools",),
    "worker": None,
    # The user's feature function: everything its own requirements.txt lists.
    "feature": None,
}
# The feature function's folder: the module and function Lambda calls (template: app.handler).
FEATURE_MODULE = "app.py"
FEATURE_HANDLER = "handler"

ARCH_ALIASES = {"x86_64": "x86_64", "amd64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64"}
ELF_MACHINES = {"x86_64": 62, "aarch64": 183}

# Shared libraries the Lambda runtime (Amazon Linux 2023) has and manylinux wheels may link.
SYSTEM_LIBRARIES = frozenset(
    {
        "libc.so.6",
        "libm.so.6",
        "libdl.so.2",
        "librt.so.1",
        "libpthread.so.0",
        "libutil.so.1",
        "libresolv.so.2",
        "libstdc++.so.6",
        "libgcc_s.so.1",
        "ld-linux-x86-64.so.2",
        "ld-linux-aarch64.so.1",
    }
)

# Paths (relative to the tree, fnmatch patterns, '/'-separated) removed from third-party code.
# Each entry says why it is safe; the ELF check and the packaging test prove the rest still loads.
TRIM_RULES: tuple[tuple[str, str], ...] = (
    # Console scripts that pip writes into --target/bin: never run in Lambda.
    ("bin", "console scripts"),
    ("bin/*", "console scripts"),
    # Test suites.
    ("*/tests", "test suite"),
    ("*/tests/*", "test suite"),
    ("*/conftest.py", "pytest configuration"),
    # Type stubs, C headers and Cython sources: for type checkers and compilers only.
    ("*.pyi", "type stub"),
    ("*.pxd", "Cython declaration"),
    ("*.pyx", "Cython source"),
    ("*.pxi", "Cython include"),
    ("*.h", "C header"),
    ("*.hpp", "C++ header"),
    ("*.cc", "C++ source"),
    ("*.cpp", "C++ source"),
    ("pyarrow/include", "C++ headers"),
    ("pyarrow/include/*", "C++ headers"),
    ("pyarrow/src", "C++ sources"),
    ("pyarrow/src/*", "C++ sources"),
    ("numpy/_core/include", "C headers"),
    ("numpy/_core/include/*", "C headers"),
    ("numpy/_core/lib", "static npymath library and pkg-config files"),
    ("numpy/_core/lib/*", "static npymath library and pkg-config files"),
    # pyarrow parts the bot never imports (Flight RPC, ORC, cloud and Hadoop filesystems: the bot
    # downloads with numerapi/boto3 and reads local parquet). pyarrow.fs imports each of these
    # extension modules in a try/except ImportError, and pyarrow's core (lib, _parquet,
    # _dataset, _compute) does not link their libraries.
    ("pyarrow/_flight.*.so", "Arrow Flight"),
    ("pyarrow/flight.py", "Arrow Flight"),
    ("pyarrow/libarrow_flight.so*", "Arrow Flight"),
    ("pyarrow/libarrow_python_flight.so*", "Arrow Flight"),
    ("pyarrow/_s3fs.*.so", "S3 filesystem"),
    ("pyarrow/libarrow_s3.so*", "S3 filesystem"),
    ("pyarrow/_gcsfs.*.so", "GCS filesystem"),
    ("pyarrow/_azurefs.*.so", "Azure filesystem"),
    ("pyarrow/_hdfs.*.so", "HDFS filesystem"),
    ("pyarrow/_orc.*.so", "ORC format"),
    ("pyarrow/orc.py", "ORC format"),
    ("pyarrow/_dataset_orc.*.so", "ORC datasets"),
    ("pyarrow/_pyarrow_cpp_tests.*.so", "C++ test harness"),
    ("pyarrow/_substrait.*.so", "Substrait Python API (libarrow_substrait itself stays)"),
    ("pyarrow/substrait.py", "Substrait Python API (libarrow_substrait itself stays)"),
    ("pyarrow/benchmark.py", "benchmarks"),
    ("pyarrow/cuda.py", "CUDA (not in the wheel)"),
    # numpy: f2py and the test-only extension modules (never imported outside numpy's tests).
    ("numpy/f2py", "Fortran wrapper generator"),
    ("numpy/f2py/*", "Fortran wrapper generator"),
    ("numpy/_pyinstaller", "PyInstaller hooks"),
    ("numpy/_pyinstaller/*", "PyInstaller hooks"),
    ("numpy/_core/_multiarray_tests.*.so", "numpy test module"),
    ("numpy/_core/_operand_flag_tests.*.so", "numpy test module"),
    ("numpy/_core/_rational_tests.*.so", "numpy test module"),
    ("numpy/_core/_struct_ufunc_tests.*.so", "numpy test module"),
    ("numpy/_core/_umath_tests.*.so", "numpy test module"),
    ("numpy/_core/_simd.*.so", "numpy SIMD test module"),
    # onnxruntime: offline tools. The Python binding (onnxruntime_pybind11_state) is linked
    # statically and does not load libonnxruntime.so (the C API library for other languages).
    ("onnxruntime/transformers", "transformer optimisation tools"),
    ("onnxruntime/transformers/*", "transformer optimisation tools"),
    ("onnxruntime/tools", "conversion tools"),
    ("onnxruntime/tools/*", "conversion tools"),
    ("onnxruntime/quantization", "quantisation tools"),
    ("onnxruntime/quantization/*", "quantisation tools"),
    ("onnxruntime/datasets", "sample models"),
    ("onnxruntime/datasets/*", "sample models"),
    ("onnxruntime/capi/libonnxruntime.so*", "C API library, not loaded by the Python binding"),
)

# What no program imports at run time: the only rules applied to the user's feature function,
# whose code may use what the bot does not (pyarrow's S3 filesystem, Flight, numpy.f2py ...).
BUILD_ONLY_REASONS = frozenset(
    {
        "console scripts",
        "test suite",
        "pytest configuration",
        "type stub",
        "Cython declaration",
        "Cython source",
        "Cython include",
        "C header",
        "C++ header",
        "C++ source",
        "C++ headers",
        "C++ sources",
        "C headers",
        "static npymath library and pkg-config files",
    }
)
FEATURE_TRIM_RULES = tuple(rule for rule in TRIM_RULES if rule[1] in BUILD_ONLY_REASONS)

ELF_MAGIC = b"\x7fELF"
PT_LOAD, PT_DYNAMIC = 1, 2
DT_NULL, DT_NEEDED, DT_STRTAB, DT_SONAME, DT_RPATH, DT_RUNPATH = 0, 1, 5, 14, 15, 29


class BuildError(RuntimeError):
    """The build cannot produce a deployable tree; the message says why and what to do."""


@dataclass(frozen=True)
class ElfInfo:
    """What the dynamic loader needs from one ELF file."""

    machine: int
    needed: tuple[str, ...]
    soname: str | None
    runpath: tuple[str, ...]


@dataclass
class BuildReport:
    """Figures of one build, written next to the tree as JSON."""

    function: str
    arch: str
    python_version: str
    bundle_aws_sdk: bool
    requirements: list[str]
    bytes_installed: int = 0
    bytes_final: int = 0
    files_final: int = 0
    removed: dict[str, int] = field(default_factory=dict)
    stripped_bytes: int = 0
    strip_tool: str | None = None
    compiled_with: str | None = None
    pyc_bytes: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        """The report as indented JSON, without the duration: it goes into the package."""
        record = {key: value for key, value in self.__dict__.items() if key != "seconds"}
        return json.dumps(record, indent=2, sort_keys=True)


# --- ELF ---------------------------------------------------------------------------------------


def read_elf(path: Path) -> ElfInfo | None:
    """Parse the dynamic section of an ELF file (NEEDED, SONAME, RUNPATH); None if not ELF."""
    with path.open("rb") as handle:
        if handle.read(4) != ELF_MAGIC:
            return None
        size = os.fstat(handle.fileno()).st_size
        with mmap.mmap(handle.fileno(), size, access=mmap.ACCESS_READ) as data:
            return _parse_elf(data)


def _parse_elf(data: mmap.mmap | bytes) -> ElfInfo:
    """Read the program headers, then the dynamic entries and their strings."""
    is64 = data[4] == 2
    endian = "<" if data[5] == 1 else ">"
    (machine,) = struct.unpack_from(endian + "H", data, 18)
    if is64:
        (phoff,) = struct.unpack_from(endian + "Q", data, 32)
        phentsize, phnum = struct.unpack_from(endian + "HH", data, 54)
        ph_format, dyn_format = endian + "IIQQQQQQ", endian + "qQ"
    else:
        (phoff,) = struct.unpack_from(endian + "I", data, 28)
        phentsize, phnum = struct.unpack_from(endian + "HH", data, 42)
        ph_format, dyn_format = endian + "IIIIIIII", endian + "iI"
    loads: list[tuple[int, int, int]] = []  # (vaddr, offset, filesz)
    dynamic: tuple[int, int] | None = None  # (offset, filesz)
    for index in range(phnum):
        fields = struct.unpack_from(ph_format, data, phoff + index * phentsize)
        if is64:
            p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz = fields[:6]
        else:
            p_type, p_offset, p_vaddr, _paddr, p_filesz = fields[:5]
        if p_type == PT_LOAD:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == PT_DYNAMIC:
            dynamic = (p_offset, p_filesz)
    if dynamic is None:  # a static executable or an object file
        return ElfInfo(machine, (), None, ())
    entry_size = struct.calcsize(dyn_format)
    entries: list[tuple[int, int]] = []
    offset, end = dynamic[0], dynamic[0] + dynamic[1]
    while offset + entry_size <= end:
        tag, value = struct.unpack_from(dyn_format, data, offset)
        if tag == DT_NULL:
            break
        entries.append((tag, value))
        offset += entry_size
    strtab_addr = next((value for tag, value in entries if tag == DT_STRTAB), None)
    if strtab_addr is None:
        return ElfInfo(machine, (), None, ())
    strtab = _vaddr_to_offset(strtab_addr, loads)

    def string(at: int) -> str:
        start = strtab + at
        stop = data.find(b"\0", start)
        return bytes(data[start:stop]).decode("utf-8", "replace")

    needed = tuple(string(value) for tag, value in entries if tag == DT_NEEDED)
    soname = next((string(value) for tag, value in entries if tag == DT_SONAME), None)
    paths: list[str] = []
    for tag, value in entries:
        if tag in (DT_RUNPATH, DT_RPATH):
            paths.extend(p for p in string(value).split(":") if p)
    return ElfInfo(machine, needed, soname, tuple(paths))


def _vaddr_to_offset(vaddr: int, loads: Sequence[tuple[int, int, int]]) -> int:
    """File offset of a virtual address, through the PT_LOAD segment that maps it."""
    for seg_vaddr, seg_offset, seg_filesz in loads:
        if seg_vaddr <= vaddr < seg_vaddr + seg_filesz:
            return vaddr - seg_vaddr + seg_offset
    return vaddr  # unmapped: treat as a file offset (true for most shared objects' first segment)


def elf_files(root: Path) -> Iterator[tuple[Path, ElfInfo]]:
    """Every ELF file under ``root`` with its dynamic information."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            info = read_elf(path)
            if info is not None:
                yield path, info


def check_links(root: Path, arch: str) -> list[str]:
    """Problems that would make the loader fail in Lambda: missing libraries, wrong architecture.

    A NEEDED library must be a system library of the runtime or be found through the file's
    RUNPATH/RPATH (``$ORIGIN``-relative, as auditwheel and pyarrow set them) inside the tree.
    """
    problems: list[str] = []
    expected_machine = ELF_MACHINES[arch]
    for path, info in elf_files(root):
        rel = path.relative_to(root).as_posix()
        if info.machine != expected_machine:
            problems.append(f"{rel}: ELF machine {info.machine}, expected {expected_machine}")
        search = [
            Path(entry.replace("$ORIGIN", str(path.parent)).replace("${ORIGIN}", str(path.parent)))
            for entry in info.runpath
        ]
        for lib in info.needed:
            if lib in SYSTEM_LIBRARIES:
                continue
            if not any((directory / lib).is_file() for directory in search):
                problems.append(f"{rel}: needs {lib}, which is not in the package")
    return problems


# --- pieces of the build -----------------------------------------------------------------------


def normalise_arch(arch: str) -> str:
    """``x86_64``/``amd64`` → ``x86_64``; ``arm64``/``aarch64`` → ``aarch64``."""
    try:
        return ARCH_ALIASES[arch.lower()]
    except KeyError:
        raise BuildError(f"unknown architecture {arch!r}: use x86_64 or arm64") from None


def platform_tags(arch: str) -> list[str]:
    """manylinux tags that run on Lambda's Amazon Linux 2023 (glibc 2.34), newest first.

    pip does not expand ``manylinux_2_X`` to older glibc tags by itself, so all are listed.
    """
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(GLIBC_MAX_MINOR, 16, -1)]
    tags.append(f"manylinux2014_{arch}")
    if arch == "x86_64":
        tags += [f"manylinux_2_{minor}_{arch}" for minor in (12, 5)]
        tags += [f"manylinux2010_{arch}", f"manylinux1_{arch}"]
    return tags


_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def select_requirements(requirements_file: Path, only: Iterable[str] | None) -> list[str]:
    """The pinned requirement lines to install for one function.

    The AWS SDK stays in the list even when it is not bundled: installing it lets pip pick
    versions of the packages it shares with the runtime's SDK (urllib3, python-dateutil,
    jmespath) that botocore accepts, since the copies in the package shadow the runtime's.
    """
    wanted = {canonical(name) for name in only} if only is not None else None
    lines: list[str] = []
    for raw in requirements_file.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _REQUIREMENT_NAME.match(line)
        if match is None:
            raise BuildError(f"{requirements_file}: cannot read requirement {raw!r}")
        name = canonical(match.group(1))
        if wanted is not None and name not in wanted:
            continue
        lines.append(line)
    if wanted is not None:
        found = {canonical(_REQUIREMENT_NAME.match(line).group(1)) for line in lines}  # type: ignore[union-attr]
        missing = wanted - found
        if missing:
            raise BuildError(f"{requirements_file} does not pin {', '.join(sorted(missing))}")
    return lines


def pip_install(
    requirements: Sequence[str], target: Path, arch: str, python_version: str, python: str
) -> None:
    """Install Linux wheels for ``arch`` and CPython ``python_version`` into ``target``.

    Two steps, because pip (up to 23.x at least) checks Requires-Python against the interpreter
    running it when installing, even with ``--python-version``: ``pip download`` resolves for
    the target, then the downloaded wheels are installed without resolving again. pip's HTTP
    cache (~/.cache/pip) makes a rebuild download nothing.
    """
    if not requirements:
        return
    target_options = []
    for tag in platform_tags(arch):
        target_options += ["--platform", tag]
    target_options += [
        "--python-version",
        python_version,
        "--implementation",
        "cp",
        "--only-binary=:all:",
    ]
    pip = [python, "-m", "pip", "--disable-pip-version-check"]
    with tempfile.TemporaryDirectory(prefix="wheels-") as wheels:
        _run([*pip, "download", "--quiet", *target_options, "--dest", wheels, *requirements])
        files = sorted(str(path) for path in Path(wheels).glob("*.whl"))
        if not files:
            raise BuildError("pip downloaded no wheels")
        _run(
            [
                *pip,
                "install",
                "--quiet",
                *target_options,
                "--no-deps",  # resolved above, for the target
                "--ignore-requires-python",
                "--no-compile",  # .pyc files are compiled later, by a CPython of the target
                "--target",
                str(target),
                *files,
            ]
        )


def _run(command: Sequence[str]) -> None:
    """Run a pip command, showing it; a failure becomes a BuildError."""
    print("+", " ".join(_shorten(command)), flush=True)
    result = subprocess.run(list(command), check=False)
    if result.returncode != 0:
        raise BuildError(
            f"{' '.join(command[:4])} failed (exit {result.returncode}); "
            f"is pip installed for {command[0]}?"
        )


def _shorten(command: Sequence[str]) -> list[str]:
    """The command for the log: its run of ``--platform`` options folded into one."""
    out: list[str] = []
    tags: list[str] = []
    parts = iter(command)
    for part in parts:
        if part == "--platform":
            if not tags:
                out.append("<platforms>")
            tags.append(next(parts, ""))
        elif part.endswith(".whl"):
            if not out or not out[-1].endswith("wheels>"):
                out.append("<wheels>")
        else:
            out.append(part)
    if tags:
        folded = f"--platform {{{tags[0]} ... {tags[-1]}}} ({len(tags)} tags)"
        out[out.index("<platforms>")] = folded
    return out


_IGNORED_SOURCE = ("Makefile", "requirements*.txt", "__pycache__", "*.pyc", ".*", "tests")


def copy_source(source: Path, target: Path) -> list[str]:
    """Copy the handlers' code (not the Makefile, requirements, caches) to the tree's root."""
    copied: list[str] = []
    for entry in sorted(source.iterdir()):
        if any(fnmatch.fnmatch(entry.name, pattern) for pattern in _IGNORED_SOURCE):
            continue
        destination = target / entry.name
        if destination.exists():
            raise BuildError(f"{entry.name} from {source} would overwrite an installed package")
        if entry.is_dir():
            shutil.copytree(
                entry, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            shutil.copy2(entry, destination)
        copied.append(entry.name)
    return copied


def tree_size(root: Path) -> tuple[int, int]:
    """(bytes, files) as Lambda counts them: symlinks count as copies (SAM's zip follows them)."""
    total = files = 0
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            total += os.stat(os.path.join(dirpath, name)).st_size
            files += 1
    return total, files


def _remove(path: Path) -> int:
    """Delete a file or folder; return the bytes it held."""
    if path.is_dir() and not path.is_symlink():
        size, _ = tree_size(path)
        shutil.rmtree(path)
        return size
    size = path.lstat().st_size
    path.unlink()
    return size


def trim(root: Path, rules: Sequence[tuple[str, str]] = TRIM_RULES) -> dict[str, int]:
    """Remove what the rules name; return bytes removed per reason."""
    removed: dict[str, int] = {}
    # Walk top-down so that a removed folder is not visited again.
    for dirpath, dirnames, filenames in os.walk(root, topdown=True):
        base = Path(dirpath)
        for name in list(dirnames) + filenames:
            path = base / name
            rel = path.relative_to(root).as_posix()
            reason = next((why for pattern, why in rules if _match(rel, pattern)), None)
            if reason is None:
                continue
            removed[reason] = removed.get(reason, 0) + _remove(path)
            if name in dirnames:
                dirnames.remove(name)
    return removed


def _match(rel: str, pattern: str) -> bool:
    """fnmatch on the relative path; a leading ``*/`` also matches at the top level."""
    if fnmatch.fnmatchcase(rel, pattern):
        return True
    return pattern.startswith("*/") and fnmatch.fnmatchcase(rel, pattern[2:])


def remove_duplicate_libraries(root: Path) -> int:
    """Delete copies of a shared library stored under its link-time names.

    Wheels cannot hold symlinks, so pyarrow ships ``libarrow_python.so``,
    ``libarrow_python.so.2600`` and ``libarrow_python.so.2600.1.0`` as three full copies; the
    loader only ever opens the SONAME (``.so.2600``). A copy goes only when the SONAME file sits
    beside it with the same size, and the link check afterwards proves nothing needed it.
    """
    freed = 0
    for path, info in list(elf_files(root)):
        if not info.soname or path.name == info.soname:
            continue
        canonical_copy = path.with_name(info.soname)
        if canonical_copy.is_file() and canonical_copy.stat().st_size == path.stat().st_size:
            freed += _remove(path)
    return freed


def find_strip(arch: str, requested: str | None) -> str | None:
    """A ``strip`` that understands ELF files of ``arch``, or None."""
    candidates = [requested] if requested else []
    candidates += [f"{arch}-linux-gnu-strip", "strip", "llvm-strip"]
    for candidate in candidates:
        if candidate and shutil.which(candidate) and _strip_handles(candidate, arch):
            return candidate
    return None


def _strip_handles(tool: str, arch: str) -> bool:
    """Whether ``tool`` can write ELF files for ``arch`` (GNU strip lists its targets)."""
    try:
        result = subprocess.run(
            [tool, "--help"], capture_output=True, text=True, check=False, timeout=30
        )
    except OSError:
        return False
    text = result.stdout + result.stderr
    if "llvm" in tool or "LLVM" in text:
        return True
    wanted = {"x86_64": "elf64-x86-64", "aarch64": "elf64-littleaarch64"}[arch]
    return wanted in text


def strip_libraries(root: Path, tool: str) -> int:
    """``strip --strip-unneeded`` every ELF file except auditwheel's vendored ``*.libs`` folders.

    Those were already stripped by their builders, and rewriting libraries that patchelf has
    edited is where strip can do harm. Returns the bytes saved.
    """
    saved = 0
    for path, _info in list(elf_files(root)):
        rel = path.relative_to(root)
        if rel.parts[0].endswith(".libs"):
            continue
        before = path.stat().st_size
        result = subprocess.run(
            [tool, "--strip-unneeded", str(path)], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise BuildError(f"{tool} failed on {rel}: {result.stderr.strip()}")
        saved += before - path.stat().st_size
    return saved


def find_python(version: str, requested: str | None) -> str | None:
    """A CPython of exactly ``version`` to compile ``.pyc`` files with, or None."""
    candidates: list[str] = []
    if requested:
        candidates.append(requested)
    candidates.append(sys.executable)
    found = shutil.which(f"python{version}")
    if found:
        candidates.append(found)
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [
        str(p) for p in sorted(pyenv_root.glob(f"versions/{version}*/bin/python{version}"))
    ]
    for candidate in candidates:
        if _python_version(candidate) == version:
            return candidate
    if requested:
        raise BuildError(f"{requested} is not a working CPython {version}")
    return None


def _python_version(python: str) -> str | None:
    """``major.minor`` of a CPython interpreter, or None when it does not run or is not CPython."""
    code = "import sys, platform; print(platform.python_implementation(), *sys.version_info[:2])"
    try:
        result = subprocess.run(
            [python, "-c", code], capture_output=True, text=True, check=False, timeout=60
        )
    except OSError:
        return None
    parts = result.stdout.split()
    if result.returncode != 0 or len(parts) != 3 or parts[0] != "CPython":
        return None
    return f"{parts[1]}.{parts[2]}"


def compile_tree(root: Path, python: str) -> int:
    """Compile every ``.py`` to an unchecked-hash ``.pyc``; return the bytes the .pyc files add.

    Unchecked hash-based ``.pyc`` files are used as they are, whatever the source's timestamp,
    so the 1980 dates in SAM's zip cannot make them stale. The ``.py`` files stay, for
    tracebacks with source lines.
    """
    before, _ = tree_size(root)
    command = [
        python,
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "--invalidation-mode",
        "unchecked-hash",
        # Code objects name /var/task/..., where Lambda runs them, not this build's folder.
        "-s",
        str(root),
        "-p",
        LAMBDA_TASK_ROOT,
        str(root),
    ]
    print("+", " ".join(command), flush=True)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        # Some packages carry files that are not valid Python 3.12 (templates, py2 leftovers):
        # those are never imported; anything else shows up in the packaging test.
        failures = [line for line in result.stdout.splitlines() if line.strip()]
        print(f"compileall reported {len(failures)} lines:", *failures[:20], sep="\n  ")
    after, _ = tree_size(root)
    return after - before


def forget_install_paths(root: Path) -> int:
    """Delete pip's ``direct_url.json`` files and their ``RECORD`` lines; return how many.

    Installing downloaded wheel files makes pip record each file's URL, a random scratch folder
    (``file:///tmp/wheels-x1y2/...``), which would make every build differ. Nothing at run time
    reads it.
    """
    removed = 0
    for direct_url in sorted(root.glob("*.dist-info/direct_url.json")):
        record = direct_url.with_name("RECORD")
        if record.is_file():
            entry = f"{direct_url.parent.name}/direct_url.json,"
            lines = record.read_text().splitlines(keepends=True)
            record.write_text("".join(line for line in lines if not line.startswith(entry)))
        direct_url.unlink()
        removed += 1
    return removed


def normalise_tree(root: Path, epoch: int = ZIP_EPOCH) -> None:
    """Give every file mode 644 (755 if executable) and folder 755, and one timestamp.

    Modes then do not depend on the umask, and any zip tool stores the same entries.
    """
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                continue
            executable = os.stat(path).st_mode & 0o111
            os.chmod(path, 0o755 if executable else 0o644)
            os.utime(path, (epoch, epoch))
        for name in dirnames:
            # Lambda runs the code as another user: folders must be world-readable (SAM's zip too).
            os.chmod(os.path.join(dirpath, name), 0o755)  # noqa: S103
    for dirpath, dirnames, _files in os.walk(root, topdown=False):
        for name in dirnames:
            os.utime(os.path.join(dirpath, name), (epoch, epoch))
    os.utime(root, (epoch, epoch))


def _relative_files(root: Path) -> list[str]:
    """Every file under ``root`` as a sorted '/'-separated relative path (links followed)."""
    found = []
    for dirpath, _dirs, filenames in os.walk(root, followlinks=True):
        for name in filenames:
            found.append(Path(dirpath, name).relative_to(root).as_posix())
    return sorted(found)


def tree_digest(root: Path) -> str:
    """The MD5 that ``sam deploy`` names the function's zip after (SAM's ``dir_checksum``).

    Sorted relative paths, each followed by its file's MD5: the same tree gives the same S3 key,
    so SAM uploads nothing and CloudFormation sees no code change.
    """
    digest = hashlib.md5(usedforsecurity=False)
    for rel in _relative_files(root):
        digest.update(rel.replace("/", os.sep).encode("utf-8"))
        digest.update(_file_hash(root / rel, "md5").encode("utf-8"))
    return digest.hexdigest()


def _file_hash(path: Path, algorithm: str) -> str:
    """Hex digest of a file, read in blocks."""
    digest = hashlib.new(algorithm, usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_zip(root: Path, destination: Path) -> str:
    """Zip ``root`` the reproducible way (sorted entries, 1980 dates, 644/755); return sha256.

    The same layout as SAM's zip (deflated files, Unix modes, no folder entries), so the bytes
    Lambda receives can be checked and compared offline.
    """
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for rel in _relative_files(root):
            path = root / rel
            info = zipfile.ZipInfo(rel, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3  # Unix, so that the modes below are honoured
            mode = 0o755 if os.stat(path).st_mode & 0o111 else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=6)
    return _file_hash(destination, "sha256")


def check_feature_source(source: Path) -> None:
    """Refuse a feature function folder Lambda could not call: ``app.py`` must define
    ``handler(event, context)`` at its top level (read, not imported: no user code runs here)."""
    module = source / FEATURE_MODULE
    if not module.is_file():
        raise BuildError(
            f"{module} not found: the feature function's folder (features/) needs {FEATURE_MODULE} "
            f"with {FEATURE_HANDLER}(event, context), and a requirements.txt for its packages"
        )
    try:
        tree = ast.parse(module.read_bytes(), filename=str(module))
    except SyntaxError as error:
        raise BuildError(
            f"{module} is not valid Python (line {error.lineno}): {error.msg}"
        ) from None
    defined: set[str] = set()
    for node in tree.body:  # tuples, not X | Y: this script runs on Python 3.9 too
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom):
            defined.update(alias.asname or alias.name for alias in node.names)
    if FEATURE_HANDLER not in defined:
        raise BuildError(
            f"{module} defines no {FEATURE_HANDLER}(event, context) at its top level: Lambda "
            f"calls app.{FEATURE_HANDLER} (docs/own-data.md)"
        )


def prepare_artifacts_dir(artifacts: Path) -> None:
    """Make sure the artifacts folder is empty, clearing only a previous build of this script."""
    if artifacts.exists():
        entries = list(artifacts.iterdir())
        if entries and not (artifacts / MARKER).is_file():
            raise BuildError(
                f"{artifacts} is not empty and holds no earlier build ({MARKER}); refusing to "
                "delete it. Point ARTIFACTS_DIR at an empty folder."
            )
        for entry in entries:
            _remove(entry)
    artifacts.mkdir(parents=True, exist_ok=True)


# --- the build -----------------------------------------------------------------------------------


def build(
    function: str,
    source: Path,
    artifacts: Path,
    *,
    arch: str = "x86_64",
    python_version: str = TARGET_PYTHON,
    bundle_aws_sdk: bool = False,
    pip_python: str = sys.executable,
    compile_python: str | None = None,
    strip_tool: str | None = None,
    no_strip: bool = False,
    max_bytes: int = LAMBDA_UNZIPPED_LIMIT,
) -> BuildReport:
    """Build the deployment tree of ``function`` (``worker``, ``webhook`` or the user's
    ``feature`` function) into ``artifacts``."""
    started = time.monotonic()
    arch = normalise_arch(arch)
    if function not in FUNCTION_PACKAGES:
        raise BuildError(f"unknown function {function!r}: use one of {sorted(FUNCTION_PACKAGES)}")
    requirements_file = source / "requirements.txt"
    if function == "feature":
        check_feature_source(source)
    elif not requirements_file.is_file():
        raise BuildError(f"{requirements_file} not found: --source must be the handlers folder")
    only = FUNCTION_PACKAGES[function]
    if only is not None and bundle_aws_sdk:
        only = (*only, "boto3")
    requirements = (
        select_requirements(requirements_file, only) if requirements_file.is_file() else []
    )
    report = BuildReport(function, arch, python_version, bundle_aws_sdk, requirements)
    prepare_artifacts_dir(artifacts)
    # Marks the folder as ours from the start, so that a failed build can be cleared next time.
    (artifacts / MARKER).write_text('{"status": "building"}\n')
    tree = artifacts

    pip_install(requirements, tree, arch, python_version, pip_python)
    forget_install_paths(tree)
    report.bytes_installed, _ = tree_size(tree)
    if not bundle_aws_sdk:
        # Installed only so that pip resolves the shared dependencies within botocore's bounds.
        sdk = "AWS SDK (the runtime provides it)"
        for name in AWS_SDK_TOP_LEVEL:
            for path in [tree / name, *tree.glob(f"{name}-*.dist-info")]:
                if path.exists():
                    report.removed[sdk] = report.removed.get(sdk, 0) + _remove(path)
    report.removed.update(trim(tree, FEATURE_TRIM_RULES if function == "feature" else TRIM_RULES))
    duplicates = remove_duplicate_libraries(tree)
    if duplicates:
        report.removed["duplicate copies of shared libraries"] = duplicates

    if not no_strip:
        tool = find_strip(arch, strip_tool)
        if tool is None:
            report.warnings.append(
                f"no strip for {arch} ELF files found (install binutils, or "
                f"binutils-{arch.replace('_', '-')}-linux-gnu to build across): "
                "shared libraries stay unstripped"
            )
        else:
            report.strip_tool = tool
            report.stripped_bytes = strip_libraries(tree, tool)

    problems = check_links(tree, arch)
    if problems:
        raise BuildError("the trimmed tree cannot load:\n  " + "\n  ".join(problems))

    copy_source(source, tree)

    compiler = find_python(python_version, compile_python)
    if compiler is None:
        report.warnings.append(
            f"no CPython {python_version} found to compile .pyc files: the package works, "
            "but every cold start compiles its imports (about 2 s more). Pass PY312=/path."
        )
    else:
        report.compiled_with = compiler
        report.pyc_bytes = compile_tree(tree, compiler)

    report.bytes_final, report.files_final = tree_size(artifacts)
    report.seconds = round(time.monotonic() - started, 1)
    if report.bytes_final > max_bytes - SIZE_MARGIN:
        report.warnings.append(
            f"{report.bytes_final:,} bytes unzipped leaves less than {SIZE_MARGIN // 2**20} MiB "
            f"under Lambda's {LAMBDA_UNZIPPED_LIMIT:,}"
        )
    (artifacts / MARKER).write_text(report.to_json() + "\n")
    normalise_tree(artifacts)
    if report.bytes_final > max_bytes:
        raise BuildError(
            f"{function}: {report.bytes_final:,} bytes unzipped is over the limit of "
            f"{max_bytes:,}; use the container image variant (docs/deploy.md)"
        )
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--function", required=True, choices=sorted(FUNCTION_PACKAGES))
    parser.add_argument(
        "--source",
        type=Path,
        required=True,
        help="the handlers folder, or for --function feature the feature function's folder "
        "(code + requirements.txt)",
    )
    parser.add_argument(
        "--artifacts-dir",
        type=Path,
        required=True,
        help="where the deployable tree goes ($ARTIFACTS_DIR from sam build)",
    )
    parser.add_argument("--arch", default="x86_64", help="x86_64 (default) or arm64")
    parser.add_argument("--python-version", default=TARGET_PYTHON)
    parser.add_argument(
        "--bundle-aws-sdk",
        action="store_true",
        help="also package boto3/botocore/s3transfer (the Lambda runtime provides them)",
    )
    parser.add_argument(
        "--compile-python", help="CPython of --python-version for .pyc files (found if omitted)"
    )
    parser.add_argument("--strip", dest="strip_tool", help="strip tool (found if omitted)")
    parser.add_argument("--no-strip", action="store_true", help="keep debug symbols")
    parser.add_argument("--max-bytes", type=int, default=LAMBDA_UNZIPPED_LIMIT)
    parser.add_argument(
        "--zip", type=Path, help="also write the tree as a reproducible zip here (SAM zips it)"
    )
    args = parser.parse_args(argv)
    try:
        report = build(
            args.function,
            args.source.resolve(),
            args.artifacts_dir.resolve(),
            arch=args.arch,
            python_version=args.python_version,
            bundle_aws_sdk=args.bundle_aws_sdk,
            compile_python=args.compile_python,
            strip_tool=args.strip_tool,
            no_strip=args.no_strip,
            max_bytes=args.max_bytes,
        )
    except BuildError as error:
        print(f"build_lambda: error: {error}", file=sys.stderr)
        return 1
    for warning in report.warnings:
        print(f"build_lambda: warning: {warning}", file=sys.stderr)
    print(
        f"build_lambda: {report.function} ({report.arch}): {report.bytes_final:,} bytes in "
        f"{report.files_final:,} files, {LAMBDA_UNZIPPED_LIMIT - report.bytes_final:,} under "
        f"the limit; {report.seconds} s"
    )
    artifacts = args.artifacts_dir.resolve()
    print(f"build_lambda: tree digest {tree_digest(artifacts)} (SAM's S3 key for this code)")
    if args.zip:
        print(f"build_lambda: {args.zip} sha256 {write_zip(artifacts, args.zip)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
