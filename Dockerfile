# Image of the deployment-action container action: one static Go binary on an empty base.
#
# The runner starts every stage with `docker run --entrypoint /action/<stage>`; the binary picks
# the stage from the base name of argv[0], so pre, main and post are symlinks to the one binary.
# No shell in the final image: the entrypoints are exec'd directly (dash would drop the runner's
# hyphenated INPUT_… variables anyway). No USER (the runner's file-command files need root) and
# no WORKDIR (the runner forces --workdir /github/workspace).
#
# GO_IMAGE replaces the builder (tests in internal/suites/container pass a toolchain image assembled
# from the host, since no registry is reachable there); by default it is the stage below.
ARG GO_IMAGE=golang

# The pinned builder, by the digest of its multi-arch manifest index. It is written out in a FROM
# line (not only in an ARG) so that Dependabot (docker) can see and update it. Its stage runs on
# the build machine's platform and cross-compiles (no emulation for the multi-arch release).
FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d AS golang

# TARGETOS/TARGETARCH come from BuildKit/buildah; empty means native.
FROM ${GO_IMAGE} AS build
ARG TARGETOS
ARG TARGETARCH
# GOPROXY may be overridden (`--build-arg GOPROXY=file:///…` for an offline module mirror).
ARG GOPROXY=https://proxy.golang.org,direct
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly GOPROXY=${GOPROXY}
WORKDIR /src

# Dependencies first, so a source-only change reuses the module layer.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
# VERSION is what `deployment-action version` and the User-Agent report: the release passes the
# tag (`--build-arg VERSION=v1.2.3`); the build context has no .git to take it from.
ARG VERSION=dev
RUN GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -buildvcs=false \
      -ldflags="-s -w -buildid= -X github.com/deployment-action/deployment-action/internal/version.version=${VERSION}" \
      -o /out/action/deployment-action . \
 && ln -s deployment-action /out/action/pre \
 && ln -s deployment-action /out/action/main \
 && ln -s deployment-action /out/action/post

FROM scratch
# The CA bundle goes to /etc/ssl/cert.pem, one of the files Go's crypto/x509 reads on Linux. At
# /etc/ssl/certs/ca-certificates.crt Go would parse it twice (as that file, then again while
# scanning /etc/ssl/certs), about 3 ms per stage for nothing.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/cert.pem
# One COPY of the directory keeps the relative symlinks as symlinks.
COPY --from=build /out/action/ /action/
ENTRYPOINT ["/action/main"]
