# A live dispute appraisal (the sequencer on an in-process bench, the live view on): the browser
# test (tests/browser/live_view.sh) and the live-view benchmark (scripts/bench.d/live) drive it.
if(TARGET mtb_sim)
  add_executable(mtb_live_session ${CMAKE_CURRENT_LIST_DIR}/live_session.cpp)
  target_link_libraries(mtb_live_session PRIVATE mtb_bench mtb_sim)
  target_compile_options(mtb_live_session PRIVATE -Wno-missing-field-initializers)
  add_test(NAME browser.live_view COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/live_view.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(browser.live_view PROPERTIES LABELS browser TIMEOUT 300)
endif()
