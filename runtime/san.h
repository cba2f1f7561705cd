/*
 * san.h - telling AddressSanitizer and ThreadSanitizer about stack
 * switches.  Both keep per-stack state (ASan: the stack bounds and the
 * fake stacks of use-after-return detection; TSan: a fiber per context),
 * so every switch is announced: san_switch() just before
 * grt__ctx_switch(), san_switched() first thing in the context that
 * resumes.  Without a sanitizer these are empty and cost nothing.
 */
#ifndef GRT_SAN_H
#define GRT_SAN_H

#include "rt.h"

#if defined(__SANITIZE_ADDRESS__)
#define GRT_SAN_ADDRESS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GRT_SAN_ADDRESS 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define GRT_SAN_THREAD 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GRT_SAN_THREAD 1
#endif
#endif

#ifdef GRT_SAN_ADDRESS
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom,
                                    size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save,
                                     const void **bottom_old,
                                     size_t *size_old);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#endif
#ifdef GRT_SAN_THREAD
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif

/* A new context (goroutine or g0 with a stack of ours). */
static inline void san_g_create(struct g *gp)
{
#ifdef GRT_SAN_THREAD
    gp->cold->tsan_fiber = __tsan_create_fiber(0);
#endif
    (void)gp;
}

/* A goroutine starts in gp: ASan's fake stack of its previous goroutine
 * is gone with it. */
static inline void san_g_start(struct g *gp)
{
#ifdef GRT_SAN_ADDRESS
    gp->cold->asan_fake_stack = NULL;
#endif
    (void)gp;
}

/* A context that is the thread's own (g0 of an M, goroutine 1). */
static inline void san_thread_start(struct g *gp)
{
#ifdef GRT_SAN_THREAD
    gp->cold->tsan_fiber = __tsan_get_current_fiber();
#endif
    (void)gp;
}

/* About to switch from `from` to `to`; dying: from never runs again. */
static inline void san_switch(struct g *from, struct g *to, bool dying)
{
#ifdef GRT_SAN_ADDRESS
    __sanitizer_start_switch_fiber(dying ? NULL : &from->cold->asan_fake_stack,
                                   to->stack_lo,
                                   (size_t)(to->stack_hi - to->stack_lo));
#endif
#ifdef GRT_SAN_THREAD
    __tsan_switch_to_fiber(to->cold->tsan_fiber, 0);
#endif
    (void)from;
    (void)to;
    (void)dying;
}

/* First thing after a switch, in the context that resumed (self). */
static inline void san_switched(struct g *self)
{
#ifdef GRT_SAN_ADDRESS
    __sanitizer_finish_switch_fiber(self->cold->asan_fake_stack, NULL, NULL);
#endif
    (void)self;
}

/*
 * A goroutine died on its stack (called on the context that runs next):
 * the frames it never returned from
 * (g_entry, goexit, the switch) keep their redzones poisoned, and the next
 * goroutine on that stack would trip over them.  Clear from the lowest
 * of those frames (the saved sp) to the top.
 */
static inline void san_stack_dead(struct g *gp)
{
#ifdef GRT_SAN_THREAD
    /* TSan: the fiber's shadow call stack still holds those frames too;
     * a G reused for thousands of goroutines would overflow it (a crash
     * inside TSan after some 30,000 lives).  The next goroutine in this
     * G gets a fresh fiber.  Not goroutine 1 (no stack of ours): its
     * fiber is its thread's own, and its G is never reused. */
    if (gp->stack) {
        __tsan_destroy_fiber(gp->cold->tsan_fiber);
        gp->cold->tsan_fiber = __tsan_create_fiber(0);
    }
#endif
#ifdef GRT_SAN_ADDRESS
    if (gp->stack_lo && gp->ctx.sp) {
        char *lo = (char *)gp->ctx.sp - 256;
        if (lo < gp->stack_lo)
            lo = gp->stack_lo;
        __asan_unpoison_memory_region(lo, (size_t)(gp->stack_hi - lo));
    }
#endif
    (void)gp;
}

#endif /* GRT_SAN_H */
