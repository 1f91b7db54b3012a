// Libraries the workflow bundle loads ONCE per workflow thread instead of once per run (the bundler's
// `preloadModules`, set in src/runtime/workflow-bundle.ts).
//
// With the SDK's reusable V8 context every run gets its own module cache: each module a workflow imports
// is evaluated again for every run created, and again after each cache eviction. zod is large and builds
// many objects at load time, so evaluated per run it costs heap and time per run and makes garbage that
// grows the workflow thread's heap (figures in docs/benchmarks.md, Scale). Modules listed here are
// evaluated before any run exists and shared by every run.
//
// What may be listed: code without per-run state whose module scope touches no workflow API. The SDK
// deep-freezes shared modules' exports, so a module whose exported objects are written to later must not
// be here. zod qualifies once its lazy setup has run (below); the schemas built with it do not (zod
// defines properties on schema objects lazily). So no module in the bundle builds a schema when it loads:
// a workflow builds its input schema when it validates (src/contract/inputs.ts) and drops it after.
import { z } from 'zod';

// zod completes its own setup (default locale, memoizer) in a global config object when the first schema
// is built. That object is frozen with the shared modules, so a first build in a run would throw ("object
// is not extensible"): build and run one schema here, before the freeze.
z.strictObject({ name: z.string().min(1), n: z.number().int().optional() }).safeParse({ extra: 1 });

// Exported so that webpack keeps the module: zod's package declares no side effects, and an import whose
// value is unused would be dropped, preloading nothing.
export { z };
