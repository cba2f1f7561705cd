/*
 * agent.h - the runtime's hooks into the agent (agent/), which publishes
 * live state to the shared-memory segment (include/grt/shm_abi.h).
 *
 * PLACEHOLDER written by the lead: every hook is a no-op until the agent
 * lands.  The agent's author replaces the bodies (and may add fields to
 * struct g under "agent" in runtime/rt.h) but keeps these names and call
 * sites; each hook's comment says where the runtime calls it and what it
 * may cost there.
 */
#ifndef GRT_AGENT_H
#define GRT_AGENT_H

#include "rt.h"

/* Once, at runtime start-up, on the initial thread, after the Ps, M0 and
 * goroutine 1 exist and before any other thread starts.  May allocate,
 * create the segment and start the agent's thread.  Never fails: on error
 * it says so once on stderr and leaves publishing off. */
HIDDEN void grt__agent_init(void);

/* A G struct was just allocated (never freed; it may be reused for many
 * goroutines).  Called under no lock, on the creating goroutine. */
static inline void agent_g_alloc(struct g *gp) { (void)gp; }

/* A goroutine was created in gp (goid, creation site, name, parent set;
 * status G_RUNNABLE).  Hot: spawn path. */
static inline void agent_g_start(struct g *gp) { (void)gp; }

/* gp's status, wait reason, wait object or M/P changed: parked
 * (G_WAITING), readied (G_RUNNABLE), running (G_RUNNING on gp->m), exited
 * (G_DEAD).  Hot: called on every switch; a few stores at most. */
static inline void agent_g_state(struct g *gp) { (void)gp; }

/* An M was created (before its thread starts) / changed spinning or
 * blocked state.  Not hot. */
static inline void agent_m_new(struct m *mp) { (void)mp; }

/* At exit: remove the segment.  Async-signal-safe (also called from the
 * fatal-signal path). */
HIDDEN void grt__agent_fini(void);

#endif /* GRT_AGENT_H */
