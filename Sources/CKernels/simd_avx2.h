// Helpers shared by the AVX2 kernel files (x86_64 only). Functions carry the target attribute so
// they compile into a baseline binary and are only called after ck_isa_active() says AVX2.
#ifndef CK_SIMD_AVX2_H
#define CK_SIMD_AVX2_H
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdint.h>

#define CK_AVX2 __attribute__((target("avx2,fma,f16c")))

// fp16 -> fp32 through a zeroed register (movd), avoiding _cvtsh_ss's merge into a live register,
// which chains every block's scale load onto the previous block's accumulator.
static inline CK_AVX2 float ck_f16(uint16_t h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

// Sum of the 8 lanes.
static inline CK_AVX2 float ck_hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
#endif
#endif
