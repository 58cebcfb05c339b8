package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sqlgate/sqlgate/internal/server"
	"github.com/sqlgate/sqlgate/internal/workload"
)

// credentialsAgent runs `sqlgate credentials-agent`: a node-local
// container-credentials endpoint relaying to a remote sqlgate over HTTPS.
func credentialsAgent(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sqlgate credentials-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:9911", "node-local listen address (loopback, 169.254.170.2 or 169.254.170.23)")
	remote := fs.String("remote", "", "https:// base URL of the sqlgate to fetch credentials from (required)")
	caFile := fs.String("ca-file", "", "PEM certificate(s) to trust for the remote (default: the system roots)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	u, err := url.Parse(*remote)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		fmt.Fprintln(stderr, "sqlgate credentials-agent: --remote must be an https:// URL")
		return 2
	}
	client, err := agentClient(*caFile)
	if err != nil {
		fmt.Fprintln(stderr, "sqlgate credentials-agent:", err)
		return 2
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, "sqlgate credentials-agent:", err)
		return 1
	}
	log := server.NewLogger(stderr, "text")
	log.Info("credentials agent listening", "addr", l.Addr().String(), "remote", u.Host)
	fmt.Fprintf(stdout, "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://%s%sWORKLOAD\n", l.Addr(), workload.CredentialsPath)
	srv := &http.Server{Handler: &workload.Agent{Remote: u, Client: client, Log: log}, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "sqlgate credentials-agent:", err)
		return 1
	}
	return 0
}

func agentClient(caFile string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}, nil
}
