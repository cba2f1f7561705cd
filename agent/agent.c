/*
 * agent.c - PLACEHOLDER written by the lead: the agent (segment, tables,
 * sampler, dumps) replaces this file.
 */
#include "config.h"

#include "agent.h"

void grt__agent_init(void) {}

void grt__agent_fini(void) {}
