"""What the kernel manager starts as "the kernel" when a worker has a fork server (``_zygote``).

``python -I -S _spawn.py SOCKET REQUEST_JSON``: hands the request and this process's stdout (the
kernel's log) to the fork server, then waits for the kernel's exit status and exits with it. It
imports nothing but the standard library's socket, so it starts in a few milliseconds. Killing
it kills the kernel: the fork server watches this connection.
"""
import socket
import sys


def main():
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(sys.argv[1])
    socket.send_fds(conn, [sys.argv[2].encode()], [sys.stdout.fileno()])
    status = b""
    while chunk := conn.recv(16):
        status += chunk
    sys.exit(int(status or b"70"))


if __name__ == "__main__":
    main()
