package checks

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// The values Kubernetes gives a container's cgroup and its oom_score_adj,
// computed from the pod's spec, as the kubelet and runc do (v1.34):
//   - cpu.shares: pkg/kubelet/cm/helpers_linux.go MilliCPUToShares
//     (requests.cpu in millicores × 1024 / 1000, at least 2, at most 262144);
//   - cfs quota: MilliCPUToQuota (limits.cpu × period / 1000, at least 1000 µs;
//     period 100000 µs);
//   - cpu.weight on cgroup v2: runc converts shares, linearly before
//     opencontainers/cgroups v0.0.2 (1 + (shares-2) × 9999 / 262142), with a
//     quadratic fit in log2(shares) after; both are accepted, and named;
//   - oom_score_adj: pkg/kubelet/qos/policy.go GetContainerOOMScoreAdjust
//     (Guaranteed -997, BestEffort 1000, Burstable 1000 - 1000 ×
//     requests.memory / node memory, kept within 3..999).
const (
	minShares      = 2
	maxShares      = 262144
	quotaPeriod    = 100000
	minQuota       = 1000
	guaranteedOOM  = -997
	besteffortOOM  = 1000
	unlimitedV1Mem = int64(1) << 62 // memory.limit_in_bytes at or above this is "no limit"
)

// SharesFor is cpu.shares for a CPU request.
func SharesFor(req resource.Quantity) int64 {
	m := req.MilliValue()
	if m == 0 {
		return minShares
	}
	return min(max(m*1024/1000, minShares), maxShares)
}

// QuotaFor is cpu.cfs_quota_us for a CPU limit (-1: no limit).
func QuotaFor(limit resource.Quantity) int64 {
	m := limit.MilliValue()
	if m == 0 {
		return -1
	}
	return max(m*quotaPeriod/1000, minQuota)
}

// WeightsFor are the cpu.weight values runc may give shares on cgroup v2:
// the linear conversion of older runc and the quadratic one of newer.
func WeightsFor(shares int64) (linear, quadratic int64) {
	linear = 1 + (shares-2)*9999/262142
	switch {
	case shares <= 2:
		quadratic = 1
	case shares >= maxShares:
		quadratic = 10000
	default:
		l := math.Log2(float64(shares))
		exp := (l*l+125*l)/612.0 - 7.0/34.0
		quadratic = int64(math.Ceil(math.Pow(10, exp)))
	}
	return linear, quadratic
}

// OOMScoreAdjFor is the oom_score_adj the kubelet asks for a container, and
// the formula in words.
func OOMScoreAdjFor(qos corev1.PodQOSClass, memRequest, nodeMemory int64) (int64, string) {
	switch qos {
	case corev1.PodQOSGuaranteed:
		return guaranteedOOM, "Guaranteed: always -997"
	case corev1.PodQOSBestEffort:
		return besteffortOOM, "BestEffort: always 1000"
	}
	if nodeMemory <= 0 {
		return 0, "unknown: the node's memory capacity is not known"
	}
	adj := 1000 - 1000*memRequest/nodeMemory
	why := fmt.Sprintf("Burstable: 1000 - 1000 × %d / %d", memRequest, nodeMemory)
	switch {
	case adj < 1000+guaranteedOOM:
		adj = 1000 + guaranteedOOM
		why += ", raised to 3"
	case adj == besteffortOOM:
		adj = besteffortOOM - 1
		why += ", lowered to 999 (below BestEffort)"
	}
	return adj, why
}

// cgroupValue is one value a node check reads, on v1 or v2.
type cgroupValue struct {
	controller string // v1 controller whose directory holds the file
	v1, v2     string // file names
}

var cgroupValues = map[string]cgroupValue{
	"cpu-shares":   {"cpu", "cpu.shares", "cpu.weight"},
	"cpu-limit":    {"cpu", "cpu.cfs_quota_us", "cpu.max"},
	"memory-limit": {"memory", "memory.limit_in_bytes", "memory.max"},
}

// judgeCgroup compares what a cgroup file holds with what the container's
// spec asks, and says why the expected value is what it is.
func judgeCgroup(value string, version int, c *corev1.Container, got string) (ok bool, want string) {
	switch value {
	case "cpu-shares":
		req := c.Resources.Requests[corev1.ResourceCPU]
		shares := SharesFor(req)
		why := fmt.Sprintf("requests.cpu %s × 1024 / 1000", orNone(req))
		if req.IsZero() {
			why = "no requests.cpu: the minimum"
		}
		if version == 1 {
			return got == strconv.FormatInt(shares, 10), fmt.Sprintf("cpu.shares %d (%s)", shares, why)
		}
		lin, quad := WeightsFor(shares)
		ok := got == strconv.FormatInt(lin, 10) || got == strconv.FormatInt(quad, 10)
		return ok, fmt.Sprintf("cpu.weight %d or %d (cpu.shares %d from %s, converted by runc: linear or, in newer runc, quadratic)", lin, quad, shares, why)
	case "cpu-limit":
		lim := c.Resources.Limits[corev1.ResourceCPU]
		quota := QuotaFor(lim)
		if version == 1 {
			if quota < 0 {
				return got == "-1", "cpu.cfs_quota_us -1 (no limits.cpu: no quota)"
			}
			return got == strconv.FormatInt(quota, 10), fmt.Sprintf("cpu.cfs_quota_us %d (limits.cpu %s × %d µs period / 1000)", quota, lim.String(), quotaPeriod)
		}
		if quota < 0 {
			return got == fmt.Sprintf("max %d", quotaPeriod), fmt.Sprintf("cpu.max \"max %d\" (no limits.cpu: no quota)", quotaPeriod)
		}
		want := fmt.Sprintf("%d %d", quota, quotaPeriod)
		return got == want, fmt.Sprintf("cpu.max %q (limits.cpu %s × %d µs period / 1000)", want, lim.String(), quotaPeriod)
	case "memory-limit":
		lim := c.Resources.Limits[corev1.ResourceMemory]
		if lim.IsZero() {
			if version == 1 {
				n, err := strconv.ParseInt(got, 10, 64)
				return err == nil && n >= unlimitedV1Mem, "memory.limit_in_bytes unlimited (no limits.memory; the kernel shows 9223372036854771712)"
			}
			return got == "max", "memory.max \"max\" (no limits.memory)"
		}
		file := "memory.max"
		if version == 1 {
			file = "memory.limit_in_bytes"
		}
		return got == strconv.FormatInt(lim.Value(), 10), fmt.Sprintf("%s %d (limits.memory %s)", file, lim.Value(), lim.String())
	}
	return false, "a value labs knows"
}

func orNone(q resource.Quantity) string {
	if q.IsZero() {
		return "0"
	}
	return q.String()
}

// qosDir is the part of a cgroup path that shows a pod's QoS class: the
// kubepods tree holds Guaranteed pods directly, the others under burstable
// and besteffort (cgroupfs: /kubepods/burstable/pod...; systemd:
// kubepods-burstable.slice/kubepods-burstable-pod....slice).
func qosOfCgroupPath(p string) (corev1.PodQOSClass, bool) {
	if !strings.Contains(p, "kubepods") {
		return "", false
	}
	switch {
	case strings.Contains(p, "besteffort"):
		return corev1.PodQOSBestEffort, true
	case strings.Contains(p, "burstable"):
		return corev1.PodQOSBurstable, true
	}
	return corev1.PodQOSGuaranteed, true
}
