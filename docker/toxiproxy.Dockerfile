# Toxiproxy v2.12.0's server, FROM scratch: built here from the pinned
# github.com/Shopify/toxiproxy/v2 module (make images). Nothing is pulled.
# API on :8474; links listen on ports the harness chooses (8666 and up).
FROM scratch
LABEL org.faultline.image=true
COPY toxiproxy-server /toxiproxy-server
EXPOSE 8474
ENTRYPOINT ["/toxiproxy-server"]
CMD ["-host=0.0.0.0", "-port=8474"]
