#include "x86/vp_state.h"

#include <gtest/gtest.h>

namespace igvmkit::x86 {
namespace {

// Each attribute bit lands where AMD APM vol. 2 §15.5.1 (SVM) and the descriptor (Intel SDM vol. 3
// §3.4.5) put it: type/S/DPL/P stay in bits 0-7, AVL/L/DB/G move between 12-15 and 8-11.
TEST(SegmentAttributes, EachBitMovesToItsPlace) {
  for (int bit = 0; bit < 8; ++bit) {
    EXPECT_EQ(svmAttributes(uint16_t(1u << bit)), 1u << bit) << bit;
    EXPECT_EQ(descriptorAttributes(uint16_t(1u << bit)), 1u << bit) << bit;
  }
  const struct {
    const char* name;
    uint16_t descriptor, svm;
  } kHigh[] = {{"avl", 0x1000, 0x100}, {"l", 0x2000, 0x200}, {"db", 0x4000, 0x400},
               {"g", 0x8000, 0x800}};
  for (const auto& b : kHigh) {
    EXPECT_EQ(svmAttributes(b.descriptor), b.svm) << b.name;
    EXPECT_EQ(descriptorAttributes(b.svm), b.descriptor) << b.name;
  }
}

TEST(SegmentAttributes, BitsTheOtherFormHasNoRoomForAreDropped) {
  EXPECT_EQ(svmAttributes(0x0F00), 0u);         // the limit's bits in the descriptor form
  EXPECT_EQ(descriptorAttributes(0xF000), 0u);  // above bit 11 in the SVM form
}

TEST(SegmentAttributes, RoundTripsEveryValueEachFormCanHold) {
  for (uint32_t a = 0; a <= 0xFFFF; ++a) {
    const auto v = static_cast<uint16_t>(a);
    if ((v & 0x0F00) == 0) {
      EXPECT_EQ(descriptorAttributes(svmAttributes(v)), v);
    }
    if ((v & 0xF000) == 0) {
      EXPECT_EQ(svmAttributes(descriptorAttributes(v)), v);
    }
  }
}

TEST(VpState, DefaultsAreTheResetValues) {
  const VpState s;
  EXPECT_EQ(s.rflags, 0x2u);
  EXPECT_EQ(s.cr0, 0x60000010u);
  EXPECT_EQ(s.xcr0, 0x1u);
  EXPECT_EQ(s.pat, 0x0007040600070406u);
  EXPECT_EQ(s.dr6, 0xFFFF0FF0u);
  EXPECT_EQ(s.dr7, 0x400u);
  EXPECT_EQ(s.mxcsr, 0x1F80u);
  EXPECT_EQ(s.fcw, 0x37F);
  EXPECT_EQ(s.rip, 0u);
  EXPECT_EQ(s.cs, Segment{});
  EXPECT_EQ(s.gdtr, TableRegister{});
  EXPECT_TRUE(s.msrs.empty());
}

}  // namespace
}  // namespace igvmkit::x86
