package server

import (
	"fmt"
	"strings"
)

// printWelcome prints the generated root key and a first query, once, at
// the first start of a data dir.
func (s *Server) printWelcome() {
	endpoint := "http://" + s.cfg.Listen.HTTP
	if s.cfg.Listen.HTTP == "" {
		endpoint = "https://" + s.cfg.Listen.HTTPS
	}
	endpoint = strings.Replace(endpoint, "0.0.0.0", "127.0.0.1", 1)
	secretARN := ""
	if s.defaultSecretARN != "" {
		secretARN = s.defaultSecretARN
	}
	fmt.Fprintf(s.stdout, `
sqlgate: generated root credentials (stored in %s/%s, mode 0600; shown only now):

  export AWS_ACCESS_KEY_ID=%s
  export AWS_SECRET_ACCESS_KEY=%s
  export AWS_DEFAULT_REGION=%s

First query against the embedded SQLite cluster "default":

  aws secretsmanager get-secret-value --endpoint-url %s --secret-id default
  aws rds-data execute-statement --endpoint-url %s \
    --resource-arn %s \
    --secret-arn %s \
    --sql "select 'hello from sqlgate' as greeting"

`, s.cfg.DataDir, rootKeyFile, s.root.AccessKeyID, s.root.SecretAccessKey, s.cfg.Region,
		endpoint, endpoint, s.ClusterARN("default"), secretARN)
}
