//! Recovery from the text archives, on copies of the fixture communities.

mod reconstruct;
