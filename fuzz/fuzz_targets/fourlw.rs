//! A server's answer to a four-letter word, whatever its bytes: read without a panic, and every
//! verdict the probe prints is one line with no control character.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zkpod::probe::ready;
use zkpod::zk::fourlw;

fn one_clean_line(message: &str) {
    assert!(!message.chars().any(char::is_control), "{message:?}");
    assert!(message.chars().count() < 250, "{message:?}");
}

fuzz_target!(|reply: &[u8]| {
    for word in ["ruok", "srvr", "mntr"] {
        // As `fourlw::ask` takes a reply, once read.
        match fourlw::answer(word, reply.to_vec()) {
            Ok(answer) => {
                let text = fourlw::text(&answer);
                if let Err(why) = ready::alive_verdict(&text) {
                    one_clean_line(&why);
                }
                if let Err(why) = ready::serving_verdict(&text) {
                    one_clean_line(&why);
                }
            }
            Err(failure) => one_clean_line(&failure.to_string()),
        }
    }
});
