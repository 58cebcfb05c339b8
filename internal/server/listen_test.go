package server

import (
	"log/slog"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
)

func TestWriteTimeout(t *testing.T) {
	tests := []struct {
		name     string
		clusters []config.Limits
		want     time.Duration
	}{
		{"defaults", []config.Limits{{}}, 10*time.Second + 45*time.Second + writeMargin},
		{"largest cluster wins", []config.Limits{{StatementTimeout: time.Second}, {StatementTimeout: 5 * time.Minute, BorrowTimeout: 2 * time.Second}},
			2*time.Second + 5*time.Minute + writeMargin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte("{}"))
			if err != nil {
				t.Fatal(err)
			}
			cfg.Clusters = nil
			for i, l := range tt.clusters {
				cfg.Clusters = append(cfg.Clusters, config.Cluster{Name: string(rune('a' + i)), Engine: "sqlite", Limits: l})
			}
			cfg.ApplyClusterDefaults()
			cfg.DataDir = t.TempDir()
			cfg.Listen.HTTP = "127.0.0.1:0"
			s := &Server{cfg: cfg, log: slog.New(slog.DiscardHandler)}
			if err := s.listen(); err != nil {
				t.Fatal(err)
			}
			defer s.closeListeners()
			if got := s.httpSrvs[0].WriteTimeout; got != tt.want {
				t.Errorf("WriteTimeout = %v, want %v", got, tt.want)
			}
		})
	}
}
