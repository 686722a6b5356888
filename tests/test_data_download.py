"""Automatic download (ensure_dataset) against a local HTTP server on 127.0.0.1: complete, dropped
halfway and resumed with Range, checksum mismatch, HTTP errors, offline."""
from __future__ import annotations

import hashlib
import io
import socket
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from m2rec.data import DownloadError, default_data_path, ensure_dataset
from m2rec.data.download import fetch


def _ml1m_zip() -> bytes:
    """A GroupLens-format ml-1m.zip in which 6 users rate the same 6 movies (a 5-core)."""
    ratings = "".join(f"{user}::{movie}::{1 + (user + movie) % 5}::{978300000 + 10 * user + movie}\n"
                      for user in range(1, 7) for movie in range(1, 7))
    movies = "".join(f"{movie}::Movie {movie} (199{movie})::Drama|Comedy\n" for movie in range(1, 7))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ml-1m/ratings.dat", ratings)
        archive.writestr("ml-1m/movies.dat", movies)
    return buffer.getvalue()


ARCHIVE = _ml1m_zip()
MD5_SIDECAR = f"MD5 (ml-1m.zip) = {hashlib.md5(ARCHIVE).hexdigest()}\n".encode()


class Server:
    """Serves `files` on 127.0.0.1; `drops` = how many more responses of a path stop halfway;
    `ranges` = whether Range requests are honoured; `requests` = (path, Range header) seen."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {"/ml-1m.zip": ARCHIVE, "/ml-1m.zip.md5": MD5_SIDECAR}
        self.drops: dict[str, int] = {}
        self.ranges = True
        self.requests: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, self.headers.get("Range", "")))
                if self.path not in server.files:
                    self.send_error(404, "Not Found")
                    return
                data, start = server.files[self.path], 0
                wanted = self.headers.get("Range", "")
                if wanted and server.ranges:
                    start = int(wanted[len("bytes="):-1])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.drops.get(self.path, 0):
                    server.drops[self.path] -= 1
                    self.wfile.write(body[:len(body) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                """Keep the test output quiet."""

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()


@pytest.fixture
def server():
    running = Server()
    yield running
    running.httpd.shutdown()
    running.httpd.server_close()


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_download_check_convert_and_cache(server, tmp_path, capsys):
    folder = ensure_dataset("ml-1m", tmp_path, mirror=server.url, show_progress=False)
    assert folder == tmp_path / "ml-1m"
    lines = (folder / "ml-1m.inter").read_text().splitlines()
    assert lines[0] == "user_id:token\titem_id:token\trating:float\ttimestamp:float" and len(lines) == 37
    assert lines[1] == "1\t1\t3\t978300011"
    assert (folder / "ml-1m.item").read_text().splitlines()[1] == "1\tMovie 1\t1991\tDrama Comedy"
    assert (tmp_path / "raw" / "ml-1m.zip").read_bytes() == ARCHIVE
    assert sorted(path.name for path in (tmp_path / "raw").iterdir()) == ["ml-1m.zip"]
    assert server.requests == [("/ml-1m.zip.md5", ""), ("/ml-1m.zip", "")]
    assert ensure_dataset("ml-1m", tmp_path, mirror=_closed_port_url()) == folder
    assert capsys.readouterr().out == ""


def test_mirror_from_the_environment(server, tmp_path, monkeypatch):
    monkeypatch.setenv("M2REC_MIRROR", server.url)
    assert (ensure_dataset("ml-1m", tmp_path, show_progress=False) / "ml-1m.inter").is_file()


def test_connection_dropped_halfway_is_resumed_with_range(server, tmp_path):
    server.drops["/ml-1m.zip"] = 1
    ensure_dataset("ml-1m", tmp_path, mirror=server.url, show_progress=False)
    half = len(ARCHIVE) // 2
    assert server.requests[1:] == [("/ml-1m.zip", ""), ("/ml-1m.zip", f"bytes={half}-")]
    assert (tmp_path / "raw" / "ml-1m.zip").read_bytes() == ARCHIVE


def test_drops_without_progress_stop_and_the_next_run_resumes(server, tmp_path):
    server.ranges = False
    server.drops["/ml-1m.zip"] = 10
    with pytest.raises(DownloadError) as error:
        ensure_dataset("ml-1m", tmp_path, mirror=server.url, show_progress=False)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"download of {server.url}/ml-1m.zip stopped (the connection closed early at "
                              f"{len(ARCHIVE) // 2:,} of {len(ARCHIVE):,} bytes); run the same command again to "
                              f"resume from {tmp_path / 'raw' / 'ml-1m.zip.part'}")
    assert not (tmp_path / "raw" / "ml-1m.zip").exists() and not (tmp_path / "ml-1m").exists()
    server.ranges, server.drops = True, {}
    server.requests.clear()
    ensure_dataset("ml-1m", tmp_path, mirror=server.url, show_progress=False)
    assert server.requests == [("/ml-1m.zip.md5", ""), ("/ml-1m.zip", f"bytes={len(ARCHIVE) // 2}-")]
    assert (tmp_path / "raw" / "ml-1m.zip").read_bytes() == ARCHIVE


def test_resume_when_the_server_ignores_range_rewrites_the_file(server, tmp_path):
    part = tmp_path / "ml-1m.zip.part"
    part.write_bytes(b"stale bytes")
    server.ranges = False
    fetch(f"{server.url}/ml-1m.zip", tmp_path / "ml-1m.zip", show_progress=False)
    assert server.requests == [("/ml-1m.zip", "bytes=11-")]
    assert (tmp_path / "ml-1m.zip").read_bytes() == ARCHIVE and not part.exists()


def test_complete_part_file_is_accepted_on_http_416(server, tmp_path):
    (tmp_path / "ml-1m.zip.part").write_bytes(ARCHIVE)
    fetch(f"{server.url}/ml-1m.zip", tmp_path / "ml-1m.zip", md5_url=f"{server.url}/ml-1m.zip.md5",
          show_progress=False)
    assert (tmp_path / "ml-1m.zip").read_bytes() == ARCHIVE


def test_checksum_mismatch_deletes_the_download(server, tmp_path):
    server.files["/ml-1m.zip.md5"] = b"MD5 (ml-1m.zip) = c4d9eecfca2ab87c1945afe126590906\n"
    with pytest.raises(DownloadError) as error:
        ensure_dataset("ml-1m", tmp_path, mirror=server.url, show_progress=False)
    assert str(error.value).startswith(f"{server.url}/ml-1m.zip has MD5 {hashlib.md5(ARCHIVE).hexdigest()}, but the "
                                       f"publisher's {server.url}/ml-1m.zip.md5 says c4d9eecfca2ab87c1945afe126590906;"
                                       " the download was deleted")
    assert list((tmp_path / "raw").iterdir()) == []


def test_http_error_names_the_url_and_the_manual_command(server, tmp_path):
    with pytest.raises(DownloadError) as error:
        ensure_dataset("amazon-beauty", tmp_path, mirror=server.url, show_progress=False)
    raw = tmp_path / "raw"
    assert str(error.value) == (f"{server.url}/reviews_Beauty_5.json.gz answered HTTP 404 Not Found; download "
                                f"{server.url}/reviews_Beauty_5.json.gz by hand into {raw}/ and run: "
                                f"python -m m2rec.data prepare amazon-beauty --raw {raw} --out {tmp_path}")


def test_offline_is_one_line_with_the_url_and_the_manual_command(tmp_path):
    mirror = _closed_port_url()
    with pytest.raises(DownloadError) as error:
        ensure_dataset("nyc", tmp_path, mirror=mirror, show_progress=False)
    message, raw = str(error.value), tmp_path / "raw"
    assert "\n" not in message
    assert message.startswith(f"cannot download {mirror}/review-New_York.json.gz (")
    assert message.endswith(f"); download {mirror}/review-New_York.json.gz by hand into {raw}/ and run: "
                            f"python -m m2rec.data prepare nyc --raw {raw} --out {tmp_path}")
    assert not (tmp_path / "nyc").exists()


def test_unknown_dataset_is_a_one_line_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        ensure_dataset("yelp", tmp_path)
    assert str(error.value) == (f"no yelp.inter in {tmp_path / 'yelp'} and 'yelp' is not a dataset that can be "
                                "downloaded (ml-1m, amazon-beauty, nyc, california, texas); set data_path (or "
                                "M2REC_DATA_PATH) to the folder that holds yelp/yelp.inter")


def test_existing_dataset_needs_no_network(tmp_path):
    (tmp_path / "yelp").mkdir()
    (tmp_path / "yelp" / "yelp.inter").write_text("user_id:token\titem_id:token\n")
    assert ensure_dataset("yelp", tmp_path, mirror=_closed_port_url()) == tmp_path / "yelp"


def test_default_data_path(monkeypatch):
    monkeypatch.delenv("M2REC_DATA_PATH", raising=False)
    assert default_data_path() == "dataset/"
    monkeypatch.setenv("M2REC_DATA_PATH", "/data/recsys")
    assert default_data_path() == "/data/recsys"
    assert Path(default_data_path()) == Path("/data/recsys")


def test_cli_fetch_prints_the_folder_or_one_error_line(server, tmp_path, capsys):
    from m2rec.data.__main__ import main

    assert main(["fetch", "ml-1m", "--data-path", str(tmp_path), "--mirror", server.url, "--no-progress"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == str(tmp_path / "ml-1m")
    assert main(["fetch", "texas", "--data-path", str(tmp_path), "--mirror", _closed_port_url(), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot download ") and err.count("\n") == 1
