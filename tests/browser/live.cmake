# A live dispute appraisal (the sequencer on an in-process bench, the live view on), driven by the
# live-view benchmark (scripts/bench.d/live). The browser test (tests/browser/live_view.sh)
# watches a run of meterbench against the simulator process instead.
if(TARGET mtb_sim)
  add_executable(mtb_live_session ${CMAKE_CURRENT_LIST_DIR}/live_session.cpp)
  target_link_libraries(mtb_live_session PRIVATE mtb_bench mtb_sim)
  target_compile_options(mtb_live_session PRIVATE -Wno-missing-field-initializers)
  add_test(NAME browser.live_view COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/live_view.sh ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})
  set_tests_properties(browser.live_view PROPERTIES LABELS browser TIMEOUT 300)
  add_test(NAME browser.live_can COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/live_can.sh ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})
  set_tests_properties(browser.live_can PROPERTIES LABELS browser TIMEOUT 300)
endif()
