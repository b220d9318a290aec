"""Writes the protocol descriptors of the PyPI kurrentdbclient package (the
generated modules it ships, and every file they import) as one serialized
`google.protobuf.FileDescriptorSet`, for `crates/interop-tests/tests/wire_pinning.rs`
to pin our `.proto` files against an independent source.

    python dump_descriptors.py OUT_FILE
"""

import importlib
import os
import sys

import kurrentdbclient
from google.protobuf import descriptor_pb2


def main(out: str) -> None:
    base = os.path.join(os.path.dirname(kurrentdbclient.__file__), "protos")
    files: dict[str, descriptor_pb2.FileDescriptorProto] = {}

    def add(descriptor) -> None:
        if descriptor.name in files:
            return
        for dependency in descriptor.dependencies:
            add(dependency)
        proto = descriptor_pb2.FileDescriptorProto()
        descriptor.CopyToProto(proto)
        files[descriptor.name] = proto

    modules = 0
    for root, _, names in sorted(os.walk(base)):
        for name in sorted(names):
            if not name.endswith("_pb2.py"):
                continue
            relative = os.path.relpath(os.path.join(root, name[:-3]), base)
            module = importlib.import_module(
                "kurrentdbclient.protos." + relative.replace(os.sep, ".")
            )
            add(module.DESCRIPTOR)
            modules += 1
    if modules == 0:
        sys.exit(f"no generated modules under {base}")
    descriptor_set = descriptor_pb2.FileDescriptorSet(file=list(files.values()))
    with open(out, "wb") as f:
        f.write(descriptor_set.SerializeToString())
    print(f"{len(files)} files from {modules} generated modules -> {out}")


if __name__ == "__main__":
    main(sys.argv[1])
