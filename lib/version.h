/*
 * version: the release of this tree, shared by the daemon (GetServerVersion,
 * --version) and ctr (--version), so the two never disagree. The numbers are
 * the API generation clients expect (containerd 0.2.9's); the revision names
 * this implementation.
 */
#ifndef LIB_VERSION_H
#define LIB_VERSION_H

#define CONTAINERD_VERSION_MAJOR 0
#define CONTAINERD_VERSION_MINOR 2
#define CONTAINERD_VERSION_PATCH 9
#define CONTAINERD_REVISION "c-0.1"

#endif
