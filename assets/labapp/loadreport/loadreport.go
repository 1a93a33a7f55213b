// Package loadreport is the wire format between `labapp load`, running in a
// pod, and `labs load`, reading the pod's output: one line per progress tick
// and one result line, each a prefix and JSON. The JSON names are also what
// `labs load --output json` prints, a contract for machines.
package loadreport

// MaxRate is the highest request rate a load may be paced at (requests per
// second in total): above it the pacing interval is under 10µs and means
// nothing, and at 1e9 it rounds to zero, which a ticker refuses.
const MaxRate = 100000

// Line prefixes in the load pod's output.
const (
	ProgressPrefix = "PROGRESS "
	ResultPrefix   = "RESULT "
)

// Summary is the siege-like result of a run.
type Summary struct {
	Target              string           `json:"target"`
	Concurrency         int              `json:"concurrency"`
	Transactions        int64            `json:"transactions"`
	Successful          int64            `json:"successful"`
	Failed              int64            `json:"failed"`
	AvailabilityPercent float64          `json:"availability_percent"`
	ElapsedSeconds      float64          `json:"elapsed_seconds"`
	RequestsPerSecond   float64          `json:"requests_per_second"`
	Latency             LatencyMs        `json:"latency_ms"`
	FailureReasons      map[string]int64 `json:"failure_reasons"`
}

// LatencyMs are response-time percentiles in milliseconds.
type LatencyMs struct {
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Progress is one live tick: the last interval's rate and latencies.
type Progress struct {
	ElapsedSeconds float64 `json:"elapsed_seconds"`
	Transactions   int64   `json:"transactions"`
	Failed         int64   `json:"failed"`
	RPS            float64 `json:"rps"`
	P50            float64 `json:"p50_ms"`
	P95            float64 `json:"p95_ms"`
	P99            float64 `json:"p99_ms"`
	InFlight       int64   `json:"in_flight"`
	// Reasons counts the failures so far by reason ("connection refused").
	Reasons map[string]int64 `json:"failure_reasons,omitempty"`
}
