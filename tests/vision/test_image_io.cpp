// Image decoding and encoding: real files, bad files, round trips.
#include "vision/vision.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

std::vector<unsigned char> read_all(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	return std::vector<unsigned char>(std::istreambuf_iterator<char>(f), {});
}

std::string corpus(const char *name)
{
	return std::string(MTB_SOURCE_DIR) + "/tests/fuzz/corpus/image/" + name;
}

struct Img {
	mtb_image *p = nullptr;
	~Img() { mtb_image_destroy(p); }
};

} // namespace

TEST(ImageIo, LoadsJpegAsBgr)
{
	Img img;
	mtb_errbuf eb{};
	ASSERT_EQ(mtb_image_load(corpus("digit.jpg").c_str(), &img.p, &eb), MTB_OK) << eb.msg;
	EXPECT_EQ(img.p->channels, 3);
	EXPECT_GT(img.p->width, 8);
	EXPECT_GT(img.p->height, 8);
}

TEST(ImageIo, LoadsPngAndBmp)
{
	for (const char *name : { "grey16.png", "small.bmp" }) {
		Img img;
		mtb_errbuf eb{};
		ASSERT_EQ(mtb_image_load(corpus(name).c_str(), &img.p, &eb), MTB_OK) << name << ": " << eb.msg;
		EXPECT_EQ(img.p->channels, 3) << name;
	}
}

TEST(ImageIo, RefusesBadBytes)
{
	struct Case {
		std::vector<unsigned char> bytes;
		const char *why;
	};
	std::vector<unsigned char> jpg = read_all(corpus("digit.jpg"));
	ASSERT_GT(jpg.size(), 100u);
	std::vector<Case> cases = {
		{ {}, "empty" },
		{ { 'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd' }, "not an image" },
		{ std::vector<unsigned char>(jpg.begin(), jpg.begin() + 20), "truncated header" },
	};
	for (const Case &c : cases) {
		Img img;
		mtb_errbuf eb{};
		EXPECT_EQ(mtb_image_decode(c.bytes.data(), c.bytes.size(), &img.p, &eb), MTB_ERR_ARG) << c.why;
		EXPECT_EQ(img.p, nullptr) << c.why;
		EXPECT_NE(std::strstr(eb.msg, "cannot decode image"), nullptr) << c.why << ": " << eb.msg;
	}
}

TEST(ImageIo, RefusesHugeBeforeDecoding)
{
	// A PNG header announcing 100000 x 100000 pixels, no data.
	std::vector<unsigned char> png = read_all(corpus("huge-header.png"));
	ASSERT_GE(png.size(), 24u);
	int w = 0, h = 0;
	mtb_errbuf eb{};
	EXPECT_EQ(mtb_image_probe(png.data(), png.size(), &w, &h, &eb), MTB_ERR_ARG);
	EXPECT_NE(std::strstr(eb.msg, "larger than"), nullptr) << eb.msg;
}

TEST(ImageIo, MissingFileIsIoError)
{
	Img img;
	mtb_errbuf eb{};
	EXPECT_EQ(mtb_image_load("/nonexistent/x.jpg", &img.p, &eb), MTB_ERR_IO);
	EXPECT_NE(std::strstr(eb.msg, "/nonexistent/x.jpg"), nullptr);
}

TEST(ImageIo, JpegRoundTripKeepsPixels)
{
	for (int channels : { 1, 3, 4 }) {
		Img src;
		ASSERT_EQ(mtb_image_create(&src.p, 64, 48, channels), MTB_OK);
		for (int y = 0; y < 48; y++)
			for (int x = 0; x < 64 * channels; x++)
				mtb_image_row(src.p, y)[x] = (unsigned char)(x < 32 * channels ? 40 : 210);
		unsigned char *jpg = nullptr;
		size_t len = 0;
		mtb_errbuf eb{};
		ASSERT_EQ(mtb_image_encode_jpeg(src.p, 90, &jpg, &len, &eb), MTB_OK) << eb.msg;
		Img back;
		ASSERT_EQ(mtb_image_decode(jpg, len, &back.p, &eb), MTB_OK) << eb.msg;
		std::free(jpg);
		ASSERT_EQ(back.p->width, 64);
		ASSERT_EQ(back.p->height, 48);
		// Far from the edge the flat halves survive compression within a few levels.
		EXPECT_NEAR(mtb_image_row(back.p, 24)[5 * 3], 40, 6) << channels;
		EXPECT_NEAR(mtb_image_row(back.p, 24)[58 * 3], 210, 6) << channels;
	}
}

TEST(ImageIo, EncodeRefusesBadArguments)
{
	Img src;
	ASSERT_EQ(mtb_image_create(&src.p, 8, 8, 3), MTB_OK);
	unsigned char *jpg = nullptr;
	size_t len = 0;
	mtb_errbuf eb{};
	EXPECT_EQ(mtb_image_encode_jpeg(src.p, 0, &jpg, &len, &eb), MTB_ERR_ARG);
	EXPECT_EQ(mtb_image_encode_jpeg(src.p, 101, &jpg, &len, &eb), MTB_ERR_ARG);
	src.p->channels = 2;
	EXPECT_EQ(mtb_image_encode_jpeg(src.p, 80, &jpg, &len, &eb), MTB_ERR_ARG);
	src.p->channels = 3;
	EXPECT_EQ(jpg, nullptr);
}
