"""The data fetcher's .deb reader, on a real Debian-format archive built here."""
import io
import tarfile

from MedRestoreLib.training.fetch_data import debian_data_members


def _ar_member(name: str, data: bytes) -> bytes:
    header = f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode()
    return header + data + (b"\n" if len(data) % 2 else b"")


def test_reads_files_from_the_data_archive_of_a_deb(tmp_path):
    payload = io.BytesIO()
    with tarfile.open(fileobj=payload, mode="w:xz") as archive:
        content = b"template bytes"
        info = tarfile.TarInfo("./usr/share/mricron/templates/ch2.nii.gz")
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    deb = tmp_path / "package.deb"
    deb.write_bytes(b"!<arch>\n" + _ar_member("debian-binary", b"2.0\n")
                    + _ar_member("control.tar.xz", b"x")
                    + _ar_member("data.tar.xz", payload.getvalue()))
    assert dict(debian_data_members(deb)) == {"./usr/share/mricron/templates/ch2.nii.gz": b"template bytes"}
