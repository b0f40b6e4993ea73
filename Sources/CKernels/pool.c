// Worker pool with spin-then-sleep workers and dynamic task distribution.
#define _GNU_SOURCE
#include "quant_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CK_PAUSE() _mm_pause()
#else
#define CK_PAUSE() ((void)0)
#endif

#define CK_MAX_THREADS 256
// Spin iterations (each a `pause`, ~10-40 ns) before a worker goes to sleep: ~0.2-1 ms.
#define CK_SPIN_ITERS 20000

typedef struct {
    float *ptr;
    size_t floats;
} ck_scratch;

struct ck_pool {
    int nthreads;
    pthread_t threads[CK_MAX_THREADS];
    ck_scratch scratch[CK_MAX_THREADS];
    ck_scratch activations;  // quantized activations, written by the caller before a job

    // The current job.
    ck_task_fn fn;
    void *ctx;
    int ntasks;
    int each;                  // run_each: every thread runs task == its index, once
    int pinned;                // threads pinned to the CPUs in `cpus`
    int cpus[CK_MAX_THREADS];
    _Atomic int next_task;
    _Atomic int pending;       // workers still inside the current job
    _Atomic unsigned gen;      // bumped once per job
    _Atomic int stop;

    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int sleepers;              // guarded by mutex
};

typedef struct {
    ck_pool *pool;
    int index;
    unsigned gen;  // job generation when the worker was created
} ck_worker_arg;

static void ck_run_tasks(ck_pool *pool, int thread) {
    ck_task_fn fn = pool->fn;
    void *ctx = pool->ctx;
    int n = pool->ntasks;
    if (pool->each) {
        fn(ctx, thread, thread);
        return;
    }
    for (;;) {
        int t = atomic_fetch_add_explicit(&pool->next_task, 1, memory_order_relaxed);
        if (t >= n) break;
        fn(ctx, t, thread);
    }
}

static void *ck_worker_main(void *raw) {
    ck_worker_arg arg = *(ck_worker_arg *)raw;
    free(raw);
    ck_pool *pool = arg.pool;
    unsigned seen = arg.gen;
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&pool->gen, memory_order_acquire) == seen) {
            if (atomic_load_explicit(&pool->stop, memory_order_relaxed)) return NULL;
            if (++spins < CK_SPIN_ITERS) {
                // Yield now and then so an oversubscribed machine still makes progress.
                if ((spins & 255) == 0) sched_yield(); else CK_PAUSE();
                continue;
            }
            pthread_mutex_lock(&pool->mutex);
            pool->sleepers++;
            while (atomic_load_explicit(&pool->gen, memory_order_acquire) == seen &&
                   !atomic_load_explicit(&pool->stop, memory_order_relaxed)) {
                pthread_cond_wait(&pool->cond, &pool->mutex);
            }
            pool->sleepers--;
            pthread_mutex_unlock(&pool->mutex);
            spins = 0;
        }
        if (atomic_load_explicit(&pool->stop, memory_order_relaxed)) return NULL;
        seen = atomic_load_explicit(&pool->gen, memory_order_acquire);
        ck_run_tasks(pool, arg.index);
        atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_release);
    }
}

ck_pool *ck_pool_create(int nthreads) {
    if (nthreads < 1) nthreads = 1;
    if (nthreads > CK_MAX_THREADS) nthreads = CK_MAX_THREADS;
    ck_pool *pool = calloc(1, sizeof(ck_pool));
    if (!pool) return NULL;
    pool->nthreads = nthreads;
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->cond, NULL);
    for (int i = 1; i < nthreads; i++) {
        ck_worker_arg *arg = malloc(sizeof(ck_worker_arg));
        arg->pool = pool;
        arg->index = i;
        arg->gen = 0;
        pthread_create(&pool->threads[i], NULL, ck_worker_main, arg);
    }
    return pool;
}

void ck_pool_destroy(ck_pool *pool) {
    if (!pool) return;
    atomic_store(&pool->stop, 1);
    pthread_mutex_lock(&pool->mutex);
    pthread_cond_broadcast(&pool->cond);
    pthread_mutex_unlock(&pool->mutex);
    for (int i = 1; i < pool->nthreads; i++) pthread_join(pool->threads[i], NULL);
    for (int i = 0; i < pool->nthreads; i++) free(pool->scratch[i].ptr);
    free(pool->activations.ptr);
    pthread_mutex_destroy(&pool->mutex);
    pthread_cond_destroy(&pool->cond);
    free(pool);
}

int ck_pool_threads(const ck_pool *pool) { return pool ? pool->nthreads : 1; }

static void ck_pool_dispatch(ck_pool *pool, ck_task_fn fn, void *ctx, int ntasks, int each);

void ck_pool_run(ck_pool *pool, ck_task_fn fn, void *ctx, int ntasks) {
    if (ntasks <= 0) return;
    if (!pool || pool->nthreads == 1 || ntasks == 1) {
        for (int t = 0; t < ntasks; t++) fn(ctx, t, 0);
        return;
    }
    ck_pool_dispatch(pool, fn, ctx, ntasks, 0);
}

void ck_pool_run_each(ck_pool *pool, ck_task_fn fn, void *ctx) {
    if (!pool || pool->nthreads == 1) {
        fn(ctx, 0, 0);
        return;
    }
    cpu_set_t saved;
    int restore = 0;
    if (pool->pinned && sched_getaffinity(0, sizeof saved, &saved) == 0) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(pool->cpus[0], &one);
        restore = sched_setaffinity(0, sizeof one, &one) == 0;
    }
    ck_pool_dispatch(pool, fn, ctx, pool->nthreads, 1);
    if (restore) sched_setaffinity(0, sizeof saved, &saved);
}

int ck_pool_pin(ck_pool *pool) {
    if (!pool) return 0;
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 0;
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < pool->nthreads; c++)
        if (CPU_ISSET(c, &allowed)) pool->cpus[n++] = c;
    if (n < pool->nthreads) return 0;  // fewer CPUs than threads: pinning would oversubscribe
    for (int i = 1; i < pool->nthreads; i++) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(pool->cpus[i], &one);
        if (pthread_setaffinity_np(pool->threads[i], sizeof one, &one) != 0) return 0;
    }
    pool->pinned = 1;
    return 1;
}

static void ck_pool_dispatch(ck_pool *pool, ck_task_fn fn, void *ctx, int ntasks, int each) {
    pool->each = each;
    pool->fn = fn;
    pool->ctx = ctx;
    pool->ntasks = ntasks;
    atomic_store_explicit(&pool->next_task, 0, memory_order_relaxed);
    atomic_store_explicit(&pool->pending, pool->nthreads - 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&pool->gen, 1, memory_order_release);
    pthread_mutex_lock(&pool->mutex);
    if (pool->sleepers > 0) pthread_cond_broadcast(&pool->cond);
    pthread_mutex_unlock(&pool->mutex);
    ck_run_tasks(pool, 0);
    for (int spins = 1; atomic_load_explicit(&pool->pending, memory_order_acquire) > 0; spins++) {
        if ((spins & 255) == 0) sched_yield(); else CK_PAUSE();
    }
}

float *ck_pool_scratch(ck_pool *pool, int thread, size_t floats) {
    static _Thread_local ck_scratch solo;  // pool-less callers
    ck_scratch *s = pool ? &pool->scratch[thread] : &solo;
    if (s->floats < floats) {
        free(s->ptr);
        size_t grown = floats < 4096 ? 4096 : floats + floats / 2;  // grow geometrically
        size_t bytes = (grown * sizeof(float) + 63) & ~(size_t)63;
        s->ptr = aligned_alloc(64, bytes);
        s->floats = s->ptr ? grown : 0;
    }
    return s->ptr;
}

float *ck_pool_shared_floats(ck_pool *pool, size_t floats) {
    static _Thread_local ck_scratch solo;
    ck_scratch *s = pool ? &pool->activations : &solo;
    if (s->floats < floats) {
        free(s->ptr);
        size_t grown = floats + floats / 2 + 64;
        s->ptr = aligned_alloc(64, (grown * sizeof(float) + 63) & ~(size_t)63);
        s->floats = s->ptr ? grown : 0;
    }
    return s->ptr;
}

ck_block_q8a *ck_pool_activation_buffer(ck_pool *pool, size_t blocks) {
    return (ck_block_q8a *)ck_pool_shared_floats(pool, (blocks * sizeof(ck_block_q8a) + sizeof(float) - 1) / sizeof(float));
}

struct ck_barrier {
    _Atomic int arrived;
    _Atomic unsigned gen;
    int n;
};

ck_barrier *ck_barrier_create(int n) {
    ck_barrier *b = calloc(1, sizeof(ck_barrier));
    if (b) b->n = n < 1 ? 1 : n;
    return b;
}

void ck_barrier_destroy(ck_barrier *b) { free(b); }

void ck_barrier_wait(ck_barrier *b) {
    if (b->n == 1) return;
    unsigned gen = atomic_load_explicit(&b->gen, memory_order_acquire);
    if (atomic_fetch_add_explicit(&b->arrived, 1, memory_order_acq_rel) == b->n - 1) {
        atomic_store_explicit(&b->arrived, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&b->gen, 1, memory_order_release);
        return;
    }
    for (int spins = 1; atomic_load_explicit(&b->gen, memory_order_acquire) == gen; spins++) {
        if ((spins & 255) == 0) sched_yield(); else CK_PAUSE();
    }
}
