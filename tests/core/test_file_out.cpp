/* Output files replaced whole or not at all (core/file_out.h). */
#include "core/file_out.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

namespace {
std::string slurp(const std::string &p)
{
	std::ifstream f(p);
	std::stringstream ss;
	ss << f.rdbuf();
	return ss.str();
}
void put(const std::string &p, const std::string &text)
{
	std::ofstream(p) << text;
}
bool exists(const std::string &p)
{
	struct stat st;
	return stat(p.c_str(), &st) == 0;
}
} // namespace

TEST(FileOut, ReplacesWhenCompleteAndKeepsTheOldFileOtherwise)
{
	char tmpl[] = "/tmp/mtb-fileout-XXXXXX";
	std::string dir = mkdtemp(tmpl), path = dir + "/results.json";
	char tmp[256];
	ASSERT_EQ(mtb_file_out_tmp(path.c_str(), tmp, sizeof tmp), MTB_OK);
	EXPECT_EQ(std::string(tmp), path + ".tmp");
	char small[8];
	EXPECT_EQ(mtb_file_out_tmp(path.c_str(), small, sizeof small), MTB_ERR_ARG);

	put(path, "old");
	put(tmp, "half-writ");
	struct mtb_errbuf eb = {};
	EXPECT_EQ(mtb_file_out_commit(tmp, path.c_str(), false, &eb), MTB_ERR_IO);
	EXPECT_NE(std::string(eb.msg).find("results.json"), std::string::npos) << eb.msg;
	EXPECT_EQ(slurp(path), "old");
	EXPECT_FALSE(exists(tmp));

	put(tmp, "new");
	EXPECT_EQ(mtb_file_out_commit(tmp, path.c_str(), true, &eb), MTB_OK);
	EXPECT_EQ(slurp(path), "new");
	EXPECT_FALSE(exists(tmp));

	/* A rename that cannot be done (no temporary file) names the file and leaves it alone. */
	EXPECT_EQ(mtb_file_out_commit(tmp, path.c_str(), true, &eb), MTB_ERR_IO);
	EXPECT_EQ(slurp(path), "new");
	std::system(("rm -rf " + dir).c_str());
}
