package content

// messages are the sentences of labs a learner reads at every step, by
// language, keyed by their English format (the key is the English text:
// a message without a translation reads in English). Check verdicts'
// expected/found clauses come from the checks: a check's description is
// translated in the lab file; what a check found stays in English.
var messages = map[string]map[string]string{
	"ko": {
		"Step %d/%d: %s": "단계 %d/%d: %s",
		"(%d steps, %s)": "(%d단계, %s)",
		"When you are done, run `labs check`. Stuck? `labs hint`.": "다 했으면 `labs check`를 실행하세요. 막히면 `labs hint`.",
		"expected %s; found %s":            "기대: %s; 실제: %s",
		"expected %s; could not check: %s": "기대: %s; 확인할 수 없음: %s",
		"The step changed in another terminal while this check ran (%s), so this verdict was not recorded. Run `labs check` again.": "이 확인이 도는 동안 다른 터미널에서 단계가 바뀌어(%s) 결과를 기록하지 않았습니다. `labs check`를 다시 실행하세요.",
		"you are now at step %d": "지금은 %d단계입니다",
		"another labs command is moving past this step (running the next step's setup): waiting for it": "다른 labs 명령이 이 단계를 넘기는 중입니다(다음 단계 준비 실행 중): 끝나기를 기다립니다",
		"You finished %s: all %d steps done.":    "%s 완료: %d단계를 모두 마쳤습니다.",
		"Step %d done.":                          "%d단계 완료.",
		"What the cluster shows (namespace %s):": "클러스터의 현재 상태 (네임스페이스 %s):",
		"pods":                                   "파드",
		"recent warning events":                  "최근 경고 이벤트",
		"none":                                   "없음",
		"Not yet. Fix what is listed above and run `labs check` again; `labs hint` gives a nudge, `labs solve` runs the reference solution.": "아직입니다. 위에 나온 것을 고친 뒤 `labs check`를 다시 실행하세요. `labs hint`는 힌트를, `labs solve`는 모범 답안을 실행합니다.",
		"checking step %d/%d: %s (%d checks, up to %s)":                      "%d/%d단계 확인 중: %s (확인 %d개, 최대 %s)",
		"waiting: %d of %d checks settled (%.0fs)":                           "기다리는 중: 확인 %d/%d개 끝남 (%.0f초)",
		"This step has no hint. `labs solve` runs the reference solution.":   "이 단계에는 힌트가 없습니다. `labs solve`는 모범 답안을 실행합니다.",
		"Reference solution of step %d:":                                     "%d단계 모범 답안:",
		"Solution applied; its answer is %s. Run `labs check` to verify it.": "답안을 적용했습니다. 답은 %s입니다. `labs check`로 확인하세요.",
		"Solution applied. Run `labs check` to verify it.":                   "답안을 적용했습니다. `labs check`로 확인하세요.",
		// labs watch: the screen's and --plain's own words, the runner's statuses
		"labs watch: connecting to the lab cluster…":                                 "labs watch: 실습 클러스터에 연결하는 중…",
		"labs watch · %s · step %d/%d: %s":                                           "labs watch · %s · 단계 %d/%d: %s",
		"✗ %s — could not check: %s":                                                 "✗ %s — 확인할 수 없음: %s",
		"    found %s":                                                               "    실제: %s",
		"… reading the cluster":                                                      "… 클러스터를 읽는 중",
		"✓ Step %d done: the next step follows":                                      "✓ %d단계 완료: 다음 단계로 넘어갑니다",
		"✓ You finished %s: all %d steps done. q quits.":                             "✓ %s 완료: %d단계를 모두 마쳤습니다. q 종료.",
		"q quit · h hint · s solve · n next · p prev · r re-check":                   "q 종료 · h 힌트 · s 모범 답안 · n 다음 · p 이전 · r 다시 확인",
		"Run the reference solution of this step? y runs it, any other key does not": "이 단계의 모범 답안을 실행할까요? y는 실행, 다른 키는 취소",
		"Checks":                                 "확인",
		"Load · %s":                              "부하 · %s",
		" (finished)":                            " (끝남)",
		"no events yet":                          "아직 이벤트 없음",
		"Events · namespace %s":                  "이벤트 · 네임스페이스 %s",
		"Hint":                                   "힌트",
		"… (the step's full text: labs show)":    "… (단계 전체 내용: labs show)",
		"step %d/%d: %s (%s)":                    "단계 %d/%d: %s (%s)",
		"  ✗ %s; could not check: %s":            "  ✗ %s; 확인할 수 없음: %s",
		"  ✗ %s; found %s":                       "  ✗ %s; 실제: %s",
		"✓ step %d done: the lab is complete":    "✓ %d단계 완료: 실습을 모두 마쳤습니다",
		"✓ step %d done":                         "✓ %d단계 완료",
		"hint: ":                                 "힌트: ",
		"%w; labs watch goes on when it is back": "%w; 클러스터가 돌아오면 labs watch가 이어서 지켜봅니다",
		"watching the checks: %w; labs watch goes on when the cluster is back":                                    "확인 항목을 지켜보는 중: %w; 클러스터가 돌아오면 labs watch가 이어서 지켜봅니다",
		"the cluster answers again: watching":                                                                     "클러스터가 다시 응답합니다: 계속 지켜봅니다",
		"%v: labs watch goes on when it is back (`labs status` says why; `labs start` resumes a stopped cluster)": "%v: 클러스터가 돌아오면 labs watch가 이어서 지켜봅니다 (`labs status`로 원인 확인, `labs start`로 멈춘 클러스터 재개)",
		"checking now, as labs check does…":                                                                       "labs check처럼 지금 확인하는 중…",
		"running the reference solution…":                                                                         "모범 답안을 실행하는 중…",
		"reference solution applied: the checks follow the cluster":                                               "모범 답안을 적용했습니다: 확인 항목이 클러스터를 따라갑니다",
		"resuming %s at step %d of %d":                                                                            "%s 이어서 하기: %d/%d단계",
	},
}

// HasMessages reports whether labs' messages are translated into lang.
func HasMessages(lang string) bool { _, ok := messages[lang]; return ok }

// Tr is the format in lang, or the English format itself.
func Tr(lang, format string) string {
	if t, ok := messages[lang][format]; ok {
		return t
	}
	return format
}
