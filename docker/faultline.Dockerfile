# faultline itself, FROM scratch: a static binary built here (make images).
# Nothing is pulled. The default command serves one session server, s1, on
# :7000 with the control API on :9000; containers mode and docker-compose
# pass their own `serve` flags.
FROM scratch
LABEL org.faultline.image=true
COPY faultline /faultline
EXPOSE 7000 9000
ENTRYPOINT ["/faultline"]
CMD ["serve", "--control", ":9000", "--server", "s1,listen=:7000"]
