"""Hadoop FileSystem calls through py4j (works for file:, hdfs:, s3a:, gs:, abfs: …)."""

from __future__ import annotations

import uuid

from py4j.protocol import Py4JJavaError

from .errors import JobError, one_line, warn


class Fs:
    """Hadoop FileSystem calls through py4j (works for file:, hdfs:, s3a:, gs:, abfs: …)."""

    def __init__(self, spark):
        self.spark = spark
        self.jvm = spark._jvm
        self.conf = spark._jsc.hadoopConfiguration()
        self._warned_no_file_context = False

    def path(self, p: str):
        return self.jvm.org.apache.hadoop.fs.Path(p)

    def fs(self, p):
        return p.getFileSystem(self.conf)

    def exists(self, p: str) -> bool:
        hp = self.path(p)
        return self.fs(hp).exists(hp)

    def read_text(self, p: str) -> str:
        hp = self.path(p)
        stream = self.fs(hp).open(hp)
        try:
            return self.jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
        finally:
            stream.close()

    def mkdirs(self, p: str) -> None:
        hp = self.path(p)
        self.fs(hp).mkdirs(hp)

    def delete(self, p: str, recursive: bool = True) -> None:
        hp = self.path(p)
        fs = self.fs(hp)
        if fs.exists(hp):
            fs.delete(hp, recursive)

    def list(self, p: str) -> list[str]:
        hp = self.path(p)
        return [s.getPath().getName() for s in self.fs(hp).listStatus(hp)]

    def list_status(self, p: str) -> list[tuple[str, bool, int]]:
        """(name, is a folder, size) of each entry of the folder `p`."""
        hp = self.path(p)
        return [(s.getPath().getName(), bool(s.isDirectory()), int(s.getLen()))
                for s in self.fs(hp).listStatus(hp)]

    def write_text(self, p: str, text: str) -> None:
        """`p` replaced atomically (where the file system can) by `text`: written beside it
        under a `.` name, then renamed over it (replace)."""
        tmp = f"{p.rsplit('/', 1)[0]}/.{p.rsplit('/', 1)[-1]}.tmp-{uuid.uuid4().hex[:12]}"
        hp = self.path(tmp)
        stream = self.fs(hp).create(hp, True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()
        self.replace(tmp, p)
        folder = tmp.rsplit("/", 1)[0]
        for name in (tmp.rsplit("/", 1)[-1], p.rsplit("/", 1)[-1]):  # the local FS's checksums
            self.delete(f"{folder}/.{name}.crc", False)

    def replace(self, src: str, dst: str) -> None:
        """Move src over dst. Atomic where the file system renames atomically over an
        existing file (local, HDFS via FileContext); elsewhere (object stores, where a
        rename is a copy) dst is deleted first, and each object is written whole anyway."""
        s, d = self.path(src), self.path(dst)
        fs = self.fs(d)
        try:
            fc = self.jvm.org.apache.hadoop.fs.FileContext.getFileContext(d.toUri(), self.conf)
        except Py4JJavaError as e:
            # A scheme with a FileSystem but no AbstractFileSystem (fs.AbstractFileSystem.
            # <scheme>.impl unset, as for gs: unless configured) has no FileContext, so no
            # rename over an existing file: delete, then rename, as Spark's own committers
            # do there. Any other failure is not this case and stops the job.
            if _java_class(e) != "org.apache.hadoop.fs.UnsupportedFileSystemException":
                raise JobError(f"cannot rename {src} to {dst}: {one_line(e)}") from None
            if not self._warned_no_file_context:
                self._warned_no_file_context = True
                warn(f"{dst}: no FileContext for this file system "
                     f"({one_line(e)}); outputs are replaced by delete + rename, not atomically")
        else:
            opts = self.jvm.org.apache.hadoop.fs.Options.Rename
            arr = self.spark.sparkContext._gateway.new_array(opts, 1)
            arr[0] = opts.OVERWRITE
            try:
                fc.rename(s, d, arr)
            except Py4JJavaError as e:
                raise JobError(f"cannot rename {src} to {dst}: {one_line(e)}") from None
            return
        if fs.exists(d):
            fs.delete(d, False)
        if not fs.rename(s, d):
            raise JobError(f"cannot rename {src} to {dst}")


def _java_class(e: Py4JJavaError) -> str:
    """The class name of the Java exception behind `e`."""
    return e.java_exception.getClass().getName()
