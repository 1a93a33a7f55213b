package runner

import (
	"encoding/xml"
	"fmt"
	"os"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Body    string `xml:",chardata"`
}

// junitReport maps lab results onto JUnit: a suite per lab, a case per step;
// <failure> when an expectation did not hold (the content or the learner's
// state is wrong), <error> when something broke (script, cluster).
func junitReport(results []LabResult) junitSuites {
	var all junitSuites
	var total float64
	for _, lr := range results {
		s := junitSuite{Name: lr.Lab, Time: secs(lr.Seconds)}
		if lr.Error != "" {
			s.Cases = append(s.Cases, junitCase{Name: "setup", Classname: lr.Lab, Time: "0", Error: &junitMessage{Message: lr.Error, Body: lr.Error}})
			s.Errors++
		}
		for _, st := range lr.Steps {
			c := junitCase{Name: fmt.Sprintf("step %02d: %s", st.Step, st.Title), Classname: lr.Lab, Time: secs(st.Seconds)}
			if st.Error != "" {
				c.Error = &junitMessage{Message: st.Error, Body: st.Error}
				s.Errors++
			} else if st.Failure != "" {
				c.Failure = &junitMessage{Message: st.Failure, Body: st.Failure}
				s.Failures++
			}
			s.Cases = append(s.Cases, c)
		}
		s.Tests = len(s.Cases)
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Errors += s.Errors
		total += lr.Seconds
		all.Suites = append(all.Suites, s)
	}
	all.Time = secs(total)
	return all
}

func writeJUnit(path string, results []LabResult) error {
	b, err := xml.MarshalIndent(junitReport(results), "", "  ")
	if err != nil {
		return err
	}
	b = append([]byte(xml.Header), append(b, '\n')...)
	if err := writeAtomic(path, b); err != nil {
		return fmt.Errorf("writing JUnit report %s: %w", path, err)
	}
	return os.Chmod(path, 0o644) // a report is for CI to read
}

func secs(s float64) string { return fmt.Sprintf("%.3f", s) }
