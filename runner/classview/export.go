package classview

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
)

// CSVHeader names the columns of WriteCSV.
var csvHeader = []string{"learner", "namespace", "lab", "step", "claimed", "steps", "steps_done", "finished", "minutes_on_step", "hints", "solves", "fails_in_row", "stuck", "stuck_why", "verdict", "last_fail", "updated"}

// WriteCSV writes one line per learner: where the server vouches they
// are, what they claim, help used, and whether they are stuck (for a
// grade book or a spreadsheet).
func WriteCSV(w io.Writer, v View) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, r := range v.Learners {
		done := 0
		for _, d := range r.Done {
			if d {
				done++
			}
		}
		updated := ""
		if !r.Updated.IsZero() {
			updated = r.Updated.UTC().Format(time.RFC3339)
		}
		err := cw.Write([]string{
			r.Learner, r.Namespace, r.Lab, strconv.Itoa(r.Step), strconv.Itoa(r.Claimed), strconv.Itoa(r.Steps),
			strconv.Itoa(done), strconv.FormatBool(r.Finished), strconv.FormatFloat(time.Duration(r.OnStep).Minutes(), 'f', 1, 64),
			strconv.Itoa(r.Hints), strconv.Itoa(r.Solves), strconv.Itoa(r.FailsInRow), strconv.FormatBool(r.Stuck), cell(r.StuckWhy),
			r.Verdict, cell(strings.ReplaceAll(r.LastFail, "\n", " ")), updated,
		})
		if err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// cell keeps text a learner influenced from being read as a formula by a
// spreadsheet.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
