# tabforge: one static binary on a distroless base, run as non-root.
#   docker build -t tabforge .
#   docker run --rm -p 8080:8080 -v tabforge:/data tabforge serve --addr 0.0.0.0:8080
# The image's default command serves the models of the store in /data.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/tabforge ./cmd/tabforge && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tabforge /usr/local/bin/tabforge
# The volume must belong to the non-root user (65532) that writes it.
COPY --from=build --chown=65532:65532 /out/data /data
# Store and artifacts default to the /data volume; compose.yaml points the
# store at Redis instead.
ENV TABFORGE_STORE=sqlite:///data/tabforge.db \
    TABFORGE_ARTIFACTS=/data/artifacts
VOLUME /data
# Relative paths resolve on the volume too: train's --out (.tabforge/models),
# its report and any --out FILE of predict or explain would otherwise land
# in the container's layer, lost with `docker compose run --rm`.
WORKDIR /data
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/tabforge"]
CMD ["serve", "--addr", "0.0.0.0:8080"]
