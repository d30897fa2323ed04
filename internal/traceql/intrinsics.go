package traceql

import "sort"

// Intrinsic is a field every span has, as opposed to an attribute.
type Intrinsic uint8

// The intrinsics. Trace-level ones have the same value on every span of a
// trace; event- and link-level ones are evaluated on each event or link.
const (
	IntrinsicNone Intrinsic = iota
	IntrinsicName
	IntrinsicStatus
	IntrinsicStatusMessage
	IntrinsicDuration
	IntrinsicKind
	IntrinsicChildCount
	IntrinsicSpanID
	IntrinsicParentID
	IntrinsicTraceRootName
	IntrinsicTraceRootService
	IntrinsicTraceDuration
	IntrinsicTraceID
	IntrinsicEventName
	IntrinsicEventTimeSinceStart
	IntrinsicLinkSpanID
	IntrinsicLinkTraceID
	IntrinsicInstrumentationName
	IntrinsicInstrumentationVersion
	IntrinsicNestedSetLeft
	IntrinsicNestedSetRight
	IntrinsicNestedSetParent
)

// IntrinsicInfo describes an intrinsic.
type IntrinsicInfo struct {
	Intrinsic Intrinsic
	// Name is the canonical (scoped) spelling, e.g. span:duration.
	Name string
	// Legacy is the unscoped spelling, e.g. duration; "" when there is none.
	Legacy string
	// Type is the type of its values.
	Type Type
	// Level is where it lives: "span", "trace", "event", "link" or
	// "instrumentation".
	Level string
}

// intrinsics lists every intrinsic, indexed by Intrinsic.
var intrinsics = [...]IntrinsicInfo{
	IntrinsicName:                   {IntrinsicName, "span:name", "name", TypeString, "span"},
	IntrinsicStatus:                 {IntrinsicStatus, "span:status", "status", TypeStatus, "span"},
	IntrinsicStatusMessage:          {IntrinsicStatusMessage, "span:statusMessage", "statusMessage", TypeString, "span"},
	IntrinsicDuration:               {IntrinsicDuration, "span:duration", "duration", TypeDuration, "span"},
	IntrinsicKind:                   {IntrinsicKind, "span:kind", "kind", TypeKind, "span"},
	IntrinsicChildCount:             {IntrinsicChildCount, "span:childCount", "childCount", TypeInt, "span"},
	IntrinsicSpanID:                 {IntrinsicSpanID, "span:id", "", TypeString, "span"},
	IntrinsicParentID:               {IntrinsicParentID, "span:parentID", "", TypeString, "span"},
	IntrinsicTraceRootName:          {IntrinsicTraceRootName, "trace:rootName", "rootName", TypeString, "trace"},
	IntrinsicTraceRootService:       {IntrinsicTraceRootService, "trace:rootService", "rootServiceName", TypeString, "trace"},
	IntrinsicTraceDuration:          {IntrinsicTraceDuration, "trace:duration", "traceDuration", TypeDuration, "trace"},
	IntrinsicTraceID:                {IntrinsicTraceID, "trace:id", "", TypeString, "trace"},
	IntrinsicEventName:              {IntrinsicEventName, "event:name", "", TypeString, "event"},
	IntrinsicEventTimeSinceStart:    {IntrinsicEventTimeSinceStart, "event:timeSinceStart", "", TypeDuration, "event"},
	IntrinsicLinkSpanID:             {IntrinsicLinkSpanID, "link:spanID", "", TypeString, "link"},
	IntrinsicLinkTraceID:            {IntrinsicLinkTraceID, "link:traceID", "", TypeString, "link"},
	IntrinsicInstrumentationName:    {IntrinsicInstrumentationName, "instrumentation:name", "", TypeString, "instrumentation"},
	IntrinsicInstrumentationVersion: {IntrinsicInstrumentationVersion, "instrumentation:version", "", TypeString, "instrumentation"},
	IntrinsicNestedSetLeft:          {IntrinsicNestedSetLeft, "nestedSetLeft", "nestedSetLeft", TypeInt, "span"},
	IntrinsicNestedSetRight:         {IntrinsicNestedSetRight, "nestedSetRight", "nestedSetRight", TypeInt, "span"},
	IntrinsicNestedSetParent:        {IntrinsicNestedSetParent, "nestedSetParent", "nestedSetParent", TypeInt, "span"},
}

// extraSpellings are accepted besides the canonical and legacy ones.
var extraSpellings = map[string]Intrinsic{
	"rootService": IntrinsicTraceRootService,
}

var intrinsicBySpelling = func() map[string]Intrinsic {
	m := map[string]Intrinsic{}
	for _, in := range intrinsics[1:] {
		m[in.Name] = in.Intrinsic
		if in.Legacy != "" {
			m[in.Legacy] = in.Intrinsic
		}
	}
	for k, v := range extraSpellings {
		m[k] = v
	}
	return m
}()

// Info describes the intrinsic.
func (i Intrinsic) Info() IntrinsicInfo {
	if i > IntrinsicNone && int(i) < len(intrinsics) {
		return intrinsics[i]
	}
	return IntrinsicInfo{Name: "?"}
}

// String returns the canonical spelling.
func (i Intrinsic) String() string { return i.Info().Name }

// Type returns the type of the intrinsic's values.
func (i Intrinsic) Type() Type { return i.Info().Type }

// LookupIntrinsic returns the intrinsic spelled s (scoped, legacy or
// alternative spelling).
func LookupIntrinsic(s string) (Intrinsic, bool) {
	i, ok := intrinsicBySpelling[s]
	return i, ok
}

// IntrinsicNames returns the intrinsics' spellings for autocomplete: every
// scoped form and the legacy unscoped ones, sorted. The nested-set
// numbers, an implementation detail, are left out.
func IntrinsicNames() []string {
	var out []string
	for _, in := range intrinsics[1:] {
		if in.Level == "span" && in.Name == in.Legacy {
			continue
		}
		out = append(out, in.Name)
		if in.Legacy != "" {
			out = append(out, in.Legacy)
		}
	}
	sort.Strings(out)
	return out
}
