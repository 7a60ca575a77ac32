module flotilla.dev/hack/testenv/registry

// Builds go-containerregistry's in-memory OCI registry (cmd/registry), the loopback registry tests
// push charts to with `helm push`. It serves plain HTTP on localhost only; the tests front it with
// TLS and basic auth (e2e/framework), as a real registry would be. Its own module so its
// dependency versions stay its own.

go 1.26.0

tool github.com/google/go-containerregistry/cmd/registry

require github.com/google/go-containerregistry v0.22.1 // indirect
