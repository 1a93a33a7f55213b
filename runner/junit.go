package runner

import (
	"encoding/xml"
	"fmt"
	"os"
	"strings"
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
	Skipped  int         `xml:"skipped,attr,omitempty"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
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
	return writeJUnitXML(path, junitReport(results))
}

func writeJUnitXML(path string, report junitSuites) error {
	b, err := xml.MarshalIndent(report, "", "  ")
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

// writeGradeJUnit writes a grade as JUnit: a case per step; <failure> when
// the student's work did not hold, <error> when the step could not run
// (its script failed or hung, the cluster did not answer); a step that
// cannot be graded from the state alone is skipped.
func writeGradeJUnit(path string, rep *GradeReport, broke error) error {
	s := junitSuite{Name: rep.Lab, Time: secs(rep.Seconds)}
	if broke != nil {
		s.Cases = append(s.Cases, junitCase{Name: "grading", Classname: rep.Lab, Time: "0", Error: &junitMessage{Message: broke.Error(), Body: broke.Error()}})
		s.Errors++
	}
	for _, st := range rep.Steps {
		c := junitCase{Name: fmt.Sprintf("step %02d: %s (%d/%d)", st.Step, st.Title, st.Points, st.MaxPoints), Classname: rep.Lab, Time: secs(st.Seconds)}
		body := fmt.Sprintf("expected: %s\nfound: %s", strings.Join(st.Expected, "; "), strings.Join(st.Found, "; "))
		switch {
		case st.Passed:
		case st.NotGradable != "":
			c.Skipped = &junitMessage{Message: st.NotGradable}
			s.Skipped++
		case st.Error != "":
			c.Error = &junitMessage{Message: st.Error, Body: body}
			s.Errors++
		default:
			msg := "expected " + strings.Join(st.Expected, "; ")
			c.Failure = &junitMessage{Message: msg, Body: body}
			s.Failures++
		}
		s.Cases = append(s.Cases, c)
	}
	s.Tests = len(s.Cases)
	all := junitSuites{Tests: s.Tests, Failures: s.Failures, Errors: s.Errors, Time: s.Time, Suites: []junitSuite{s}}
	return writeJUnitXML(path, all)
}

// GitHubAnnotation is a problem as a GitHub Actions workflow command: the
// run's page shows it on the file's line.
func GitHubAnnotation(level, file string, line int, title, msg string) string {
	esc := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	prop := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
	return fmt.Sprintf("::%s file=%s,line=%d,title=%s::%s", level, prop.Replace(file), line, prop.Replace(title), esc.Replace(msg))
}
