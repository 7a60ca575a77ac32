module flotilla.dev/hack/testenv/tool

// The testenv command: builds the pinned control-plane binaries and runs local control planes.
// Standard library only, so it builds in seconds on a fresh machine.

go 1.26.0
