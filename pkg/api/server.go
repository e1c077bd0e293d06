package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/files"
	"github.com/cuttleprint/cuttle/pkg/job"
	"github.com/cuttleprint/cuttle/pkg/power"
	"github.com/cuttleprint/cuttle/pkg/printer"
	"github.com/cuttleprint/cuttle/pkg/profiles"
	"github.com/cuttleprint/cuttle/pkg/settings"
	"github.com/cuttleprint/cuttle/pkg/system"
	"github.com/gorilla/mux"
)

// Guards other than a permission.
const (
	// Unguarded marks a route open to anyone (login, logout, currentuser,
	// /online.txt, app-key requests, the web UI and the push endpoints, which
	// authenticate on their own).
	Unguarded auth.Permission = "-unguarded"
	// AnyUser marks a route open to any authenticated user; the handler
	// decides what each may do (their own account, their own app keys).
	AnyUser auth.Permission = "-anyuser"
)

// EmulatedOctoPrint is the OctoPrint version cuttle's API matches.
const EmulatedOctoPrint = "1.11.2"

// Deps are the domain objects the handlers call. Fields are added as
// capabilities land; a nil field disables the routes that need it.
type Deps struct {
	// Auth holds users, keys and sessions. Required.
	Auth *auth.Service
	// Log receives request errors. Defaults to slog.Default().
	Log *slog.Logger
	// Version is cuttle's own version string.
	Version string
	// MaxBodyBytes bounds JSON request bodies (default 1 MiB).
	MaxBodyBytes int64
	// LoginLimit bounds failed logins per client (default 5 per minute).
	LoginLimit *auth.Limiter
	// Now is the clock (default time.Now).
	Now func() time.Time
	// UI serves the web interface for every non-API path (nil: none).
	UI http.Handler
	// Power holds the relays (PSU, LED, …). Nil means none configured: the
	// power routes still answer, with 503 and the reason.
	Power *power.Bank
	// PowerPolicy runs automatic switching; nil disables idle cancel.
	PowerPolicy *power.Policy
	// Printer is the printer behind /api/connection and /api/printer; nil
	// means an always-offline one.
	Printer *printer.Machine
	// Settings is the live configuration behind /api/settings.
	Settings *settings.File
	// PluginSettings render the blocks under "plugins" in /api/settings,
	// by plugin id.
	PluginSettings map[string]PluginSettings
	// AppKeys runs the application-key workflow (nil: the routes are off).
	AppKeys *auth.AppKeys
	// AppKeyLimit bounds access requests per client (default 10 per minute).
	AppKeyLimit *auth.Limiter
	// Commands are the configured system commands (nil: routes off).
	Commands *system.Commands
	// Logs are cuttle's log files (nil: routes off).
	Logs *system.Logs
	// Started is when the server started, for uptime.
	Started time.Time
	// DiscoveryXML renders the UPnP description for a base URL (nil: off).
	DiscoveryXML func(base string) ([]byte, error)
	// Events receives the events handlers cause (UserLoggedIn,
	// SettingsUpdated, ...); nil drops them.
	Events *events.Bus
	// DataDir is cuttle's data directory (util path checks stay inside it).
	DataDir string
	// OnSettingsUpdated is told about every successful settings change
	// (it publishes SettingsUpdated).
	OnSettingsUpdated func(*settings.Settings)
	// Push serves the push API under /sockjs (a *push.Server); nil disables it.
	Push http.Handler
	// Files is the local file storage (nil: no file routes).
	Files *files.Storage
	// UploadMaxBytes bounds uploads (default DefaultUploadMax, 1 GiB).
	UploadMaxBytes int64
	// Job runs print jobs (nil: /api/job reports Offline).
	Job *job.Controller
	// Profiles holds printer profiles (nil: no profile routes).
	Profiles *profiles.Store
	// WebcamUpstream is the camera stream server /webcam/ forwards to
	// (ustreamer on the appliance); nil answers 503.
	WebcamUpstream *url.URL
}

// publish puts e on the event bus, if there is one.
func (s *Server) publish(e events.Event) {
	if s.deps.Events != nil {
		s.deps.Events.Publish(e)
	}
}

// RouteOption changes how one route is guarded or limited.
type RouteOption func(*guard)

// CheckAfter says the handler checks the permission itself after its own
// preconditions, for routes where OctoPrint answers 409 before 403 (POST
// /api/job). Authentication (401) still comes first.
func CheckAfter() RouteOption { return func(g *guard) { g.checkAfter = true } }

// MaxBody overrides the body limit for one route (uploads).
func MaxBody(n int64) RouteOption { return func(g *guard) { g.maxBody = n } }

// FormKey lets a multipart route take its API key from an `apikey` form
// field sent before the file part, as OctoPrint allows for uploads.
func FormKey() RouteOption { return func(g *guard) { g.formKey = true } }

// guard is what the middleware enforces for a route.
type guard struct {
	perm       auth.Permission
	checkAfter bool
	maxBody    int64
	formKey    bool
}

// Server is the HTTP handler for the whole API. Create it with New.
type Server struct {
	deps   Deps
	router *mux.Router
	guards map[string]guard // route name → guard; every route has one
}

// New builds the router with every route of every capability in deps.
func New(deps Deps) *Server {
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	if deps.MaxBodyBytes == 0 {
		deps.MaxBodyBytes = 1 << 20
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.AppKeyLimit == nil {
		deps.AppKeyLimit = auth.NewLimiter(10, time.Minute, deps.Now)
	}
	if deps.LoginLimit == nil {
		deps.LoginLimit = auth.NewLimiter(5, time.Minute, deps.Now)
	}
	s := &Server{deps: deps, router: mux.NewRouter(), guards: map[string]guard{}}
	// Clients such as Home Assistant's library send //api/...: we collapse
	// slashes ourselves instead of letting mux answer with a 301, which
	// turns a POST into a GET.
	s.router.SkipClean(true)
	s.router.NotFoundHandler = http.HandlerFunc(s.notFound)
	s.router.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path))
	})
	s.routes()
	return s
}

// routes registers every capability's routes. Each capability adds one line.
func (s *Server) routes() {
	s.routesServer()
	s.routesLogin()
	s.routesAccess()
	s.routesSetup()
	s.routesPower()
	s.routesSettings()
	s.routesAppKeys()
	s.routesConnection()
	s.routesPrinter()
	s.routesPush()
	s.routesSystem()
	s.routesDiscovery()
	s.routesOpenAPI()
	s.routesUtil()
	s.routesFiles()
	s.routesJob()
	s.routesProfiles()
	s.routesAppliance()
	s.routesUI() // last: the web UI answers what no route claims
}

// handle registers a route with its guard. perm must be a permission,
// AnyUser or Unguarded.
func (s *Server) handle(method, path string, perm auth.Permission, h http.HandlerFunc, opts ...RouteOption) {
	if perm == "" {
		panic("api: route " + method + " " + path + " declares no permission")
	}
	g := guard{perm: perm}
	for _, o := range opts {
		o(&g)
	}
	name := method + " " + path
	if _, dup := s.guards[name]; dup {
		panic("api: route " + name + " registered twice")
	}
	s.guards[name] = g
	methods := []string{method}
	if method == http.MethodGet {
		methods = append(methods, http.MethodHead) // net/http answers HEAD with the GET handler, minus the body
	}
	s.router.Handle(path, s.guarded(g, h)).Methods(methods...).Name(name)
}

// handlePrefix registers a handler for every path under prefix (the web UI,
// the push endpoints) with its guard.
func (s *Server) handlePrefix(prefix string, perm auth.Permission, h http.Handler) {
	name := "PREFIX " + prefix
	s.guards[name] = guard{perm: perm}
	s.router.PathPrefix(prefix).Handler(s.guarded(guard{perm: perm}, h.ServeHTTP)).Name(name)
}

// ServeHTTP collapses duplicate slashes and dispatches.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.Contains(r.URL.Path, "//") {
		r.URL.Path = collapseSlashes(r.URL.Path)
		if r.URL.RawPath != "" {
			r.URL.RawPath = collapseSlashes(r.URL.RawPath)
		}
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "sameorigin")
	h.Set("X-Robots-Tag", "noindex, nofollow, noimageindex")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	}
	s.router.ServeHTTP(w, r)
}

func collapseSlashes(p string) string {
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && i > 0 && p[i-1] == '/' {
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, "no such resource: "+r.URL.Path)
}

// RouteInfo describes one registered route, for tests and the OpenAPI
// document.
type RouteInfo struct {
	Name       string
	Method     string // "" for prefix routes
	Path       string // the mux template
	Permission auth.Permission
	CheckAfter bool
}

// Routes lists every route in the router with its declared guard. A route
// without a declaration (registered around handle) has an empty Permission.
func (s *Server) Routes() []RouteInfo {
	var out []RouteInfo
	s.router.Walk(func(rt *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := rt.GetPathTemplate()
		if err != nil {
			tpl, _ = rt.GetPathRegexp()
		}
		methods, _ := rt.GetMethods()
		g, ok := s.guards[rt.GetName()]
		info := RouteInfo{Name: rt.GetName(), Path: tpl, CheckAfter: g.checkAfter}
		if ok {
			info.Permission = g.perm
		}
		if len(methods) == 0 {
			out = append(out, info)
		}
		for _, m := range methods {
			if m == http.MethodHead && strings.HasPrefix(info.Name, "GET ") {
				continue // the implicit HEAD of a GET route
			}
			info.Method = m
			out = append(out, info)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
