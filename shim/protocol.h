/*
 * protocol.h: the shim's --version handshake, shared with the daemon
 * (daemon/preflight.c runs `SHIM --version` once at start).
 *
 * The first line names this project's shim and the protocol it speaks with
 * the daemon: its options, the sync fd's "created"/"error" lines, the files
 * of its directory (exit, pid, shim.log, control) and the control fifo's
 * commands. Bump SHIM_PROTOCOL when any of them changes in a way an older
 * daemon or shim would misread. A program that prints anything else (the
 * Go 0.2.9 shim prints a usage error) is not this project's shim.
 */
#ifndef SHIM_PROTOCOL_H
#define SHIM_PROTOCOL_H

#define SHIM_HANDSHAKE "containerd-shim (containerd in C) shim protocol "
#define SHIM_PROTOCOL "1"
#define SHIM_VERSION_LINE SHIM_HANDSHAKE SHIM_PROTOCOL

#endif
