# An SDK image for the shards Job: the SDK's runtime with faultline's static
# binary added, so that faultline can start the SDK's driver in its own
# container (faultline execs one driver process per client or group and
# speaks to it over stdin/stdout). Here, the Node engine of sdk/node:
#
#   make images
#   docker build -f deploy/kubernetes/sdk-node.Dockerfile -t faultline-node:local .
#
# and in shards-job.yaml: image faultline-node:local,
# --sdk=node /sdk/node/driver.js. A Go driver built static (CGO_ENABLED=0)
# can instead be copied into an image FROM faultline:local.
FROM faultline:local AS faultline

FROM node:20-slim
COPY --from=faultline /faultline /usr/local/bin/faultline
COPY sdk/node /sdk/node
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/faultline"]
