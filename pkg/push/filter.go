package push

import (
	"encoding/json"
	"regexp"
)

// filter is a client's subscription (reference §5.2). Until the first subscribe
// message everything is on; a subscribe switches to opt-in and replaces any
// earlier one.
type filter struct {
	state    bool
	logs     lineFilter
	messages lineFilter
	events   nameFilter
	plugins  nameFilter
}

// lineFilter selects terminal lines: off, all, or those matching re.
type lineFilter struct {
	on bool
	re *regexp.Regexp
}

// keep returns the line predicate, nil when every line passes.
func (l lineFilter) keep() func(string) bool {
	if l.re == nil {
		return nil
	}
	return l.re.MatchString
}

// nameFilter selects names: all, none, or a set.
type nameFilter struct {
	all   bool
	names map[string]bool
}

func (n nameFilter) allows(name string) bool { return n.all || n.names[name] }

func defaultFilter() filter {
	return filter{state: true, logs: lineFilter{on: true}, messages: lineFilter{on: true},
		events: nameFilter{all: true}, plugins: nameFilter{all: true}}
}

func (f filter) event(name string) bool { return f.events.allows(name) }

func (f filter) plugin(id string) bool { return f.plugins.allows(id) }

// parseFilter reads a subscribe payload. ok is false when it is not an object,
// in which case the message is ignored.
func parseFilter(raw json.RawMessage) (filter, bool) {
	var m struct {
		State   json.RawMessage `json:"state"`
		Events  json.RawMessage `json:"events"`
		Plugins json.RawMessage `json:"plugins"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return filter{}, false
	}
	var f filter
	var on bool
	if json.Unmarshal(m.State, &on) == nil {
		// state:true means logs on, messages off.
		f.state, f.logs.on = on, on
	} else {
		var st struct {
			Logs     json.RawMessage `json:"logs"`
			Messages json.RawMessage `json:"messages"`
		}
		if m.State != nil && json.Unmarshal(m.State, &st) == nil {
			f.state = true
			f.logs = parseLineFilter(st.Logs)
			f.messages = parseLineFilter(st.Messages)
		}
	}
	f.events = parseNameFilter(m.Events)
	f.plugins = parseNameFilter(m.Plugins)
	return f, true
}

// parseLineFilter reads bool|regex; a missing or invalid value is off.
func parseLineFilter(raw json.RawMessage) lineFilter {
	var on bool
	if json.Unmarshal(raw, &on) == nil {
		return lineFilter{on: on}
	}
	var expr string
	if json.Unmarshal(raw, &expr) == nil {
		if re, err := regexp.Compile(expr); err == nil {
			return lineFilter{on: true, re: re}
		}
	}
	return lineFilter{}
}

// parseNameFilter reads bool|[names]; a missing or invalid value is none.
func parseNameFilter(raw json.RawMessage) nameFilter {
	var all bool
	if json.Unmarshal(raw, &all) == nil {
		return nameFilter{all: all}
	}
	var names []string
	if json.Unmarshal(raw, &names) == nil {
		set := make(map[string]bool, len(names))
		for _, n := range names {
			set[n] = true
		}
		return nameFilter{names: set}
	}
	return nameFilter{}
}
